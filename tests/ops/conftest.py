"""AWS for the ops tests: a moto server on a free loopback port, and boto3 pointed at it.

- `moto_server` (session, in tests/conftest.py): one ThreadedMotoServer for the whole run; its URL.
- `aws`: a clean moto (POST /moto-api/reset) and an environment that can only reach it: endpoint,
  fake credentials, no profile or config file of the developer's, no instance metadata. The cached
  ops.aws clients are dropped before and after, since they hold the endpoint they were made with.
  Yields the endpoint URL.
- `shared_botocore_loader` (session, automatic): every botocore session reads its service models
  through one loader, so making clients anew in each test does not parse EC2's model again.
- `aws_stub`: answer one AWS operation with a canned response or error, below boto3 (a botocore
  `before-call` hook on the ops.aws client), for what moto cannot represent: an AccessDenied, or
  an operation it does not implement.

moto's state-manager transitions (`/moto-api/state-manager/set-transition`) are not reset between
tests; a test that relies on one sets it (ops.demo.seed_example pins ECS tasks RUNNING).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from ops import aws as ops_aws

REGION = "us-east-1"


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader() -> Iterator[None]:
    """ops.aws makes a botocore session per client and each session parses the service models again
    (EC2's alone takes a few hundred milliseconds); the `aws` fixture drops the clients in every test.
    The loader only reads botocore's bundled data, so sharing it changes nothing but the time."""
    loaders: dict[Any, Any] = {}
    create_loader = botocore.session.create_loader

    def shared(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


@pytest.fixture
def aws(moto_server: str, monkeypatch, tmp_path) -> Iterator[str]:
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    # Read by the in-process moto server when a service is created: its runningCount.
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10).close()
    ops_aws.forget_clients()
    yield moto_server
    ops_aws.forget_clients()


@pytest.fixture
def aws_stub(aws: str) -> Iterator[Callable[..., None]]:
    """stub(service, operation, response={...}) or stub(service, operation, error_code="...", status=403).

    `operation` is the API name ("DescribeNetworkAcls"). The stub answers on the cached ops.aws
    client for (service, region), which is the one the code under test gets, until the test ends.
    """
    registered: list[tuple[Any, str, Callable]] = []

    def stub(
        service: str,
        operation: str,
        *,
        response: dict[str, Any] | None = None,
        error_code: str = "",
        status: int = 400,
        message: str = "stubbed by the test",
        region: str = REGION,
    ) -> None:
        client = ops_aws.client(service, region=region)
        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"

        def answer(**kwargs):
            url = client.meta.endpoint_url
            if error_code:
                parsed = {
                    "Error": {"Code": error_code, "Message": message},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                }
                return AWSResponse(url, status, {}, None), parsed
            return AWSResponse(url, 200, {}, None), {**(response or {}), "ResponseMetadata": {"HTTPStatusCode": 200}}

        client.meta.events.register(event, answer)
        registered.append((client, event, answer))

    yield stub
    for client, event, handler in registered:
        client.meta.events.unregister(event, handler)
