"""boto3 clients for the checks and the diagnosis: one per (environment, service, region) per process.

Credentials come only from boto3's standard chain (environment, profile, instance or task role),
optionally exchanged for an assumed role that is refreshed before it expires; nothing is stored.
Endpoints come from boto3's standard resolution too (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECS`...),
which is how the tests and `make run` point everything at a local moto server; there is no way to
set an endpoint from a page or the API.

Every client uses botocore's standard retry mode with a bounded number of attempts and short
timeouts, so a throttled or failing AWS ends a run as ERROR quickly instead of hanging a worker.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from django.conf import settings


class Environment(Protocol):
    """What a client needs of an AWS environment (ops.models.AwsEnvironment)."""

    pk: Any
    role_arn: str
    external_id: str


def client_config() -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
        connect_timeout=settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.AWS_READ_TIMEOUT_SECONDS,
        user_agent_extra="snailtrail",
    )


# botocore's bundled service models, read once per process: a session of its own would parse
# EC2's model again (a few hundred milliseconds) for every client made.
_loader = botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.Session()
    session.register_component("data_loader", _loader)
    return session


def session_for(environment: Environment | None = None) -> boto3.Session:
    """A session on the standard credential chain, or on a role assumed from it."""
    base = _botocore_session()
    if environment is None or not environment.role_arn:
        return boto3.Session(botocore_session=base)
    extra = {"RoleSessionName": f"snailtrail-{environment.pk}"}
    if environment.external_id:
        extra["ExternalId"] = environment.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=base.create_client,
        source_credentials=base.get_credentials(),
        role_arn=environment.role_arn,
        extra_args=extra,
    )
    assumed = _botocore_session()
    # Refreshed by botocore shortly before they expire, on the first call that needs them.
    assumed._credentials = DeferredRefreshableCredentials(method="assume-role", refresh_using=fetcher.fetch_credentials)
    return boto3.Session(botocore_session=assumed)


_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


def client(service: str, *, region: str, environment: Environment | None = None):
    """A cached client; boto3 clients are thread-safe once made, making them is not (hence the lock)."""
    key = (getattr(environment, "pk", None), getattr(environment, "role_arn", ""), service, region)
    with _lock:
        if key not in _clients:
            _clients[key] = session_for(environment).client(service, region_name=region, config=client_config())
        return _clients[key]


def forget_clients() -> None:
    """Drop cached clients (tests that move the endpoint; an environment whose role changed)."""
    with _lock:
        _clients.clear()
