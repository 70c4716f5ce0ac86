"""The interface of a check type, and the registry of them.

A type collects a whole group of checks at once: every check of one type in one (environment,
region) pair goes to `collect` together, which makes one batched, paginated describe call for
all their resources instead of one call per check (bench/ops_sync.py measures it). `collect`
never raises for an AWS error: it returns an ERROR observation for the checks it concerns, with
the operation and error code, so one bad resource or a throttled call does not lose the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError

PASS, FAIL, ERROR = "pass", "fail", "error"


@dataclass(frozen=True)
class Target:
    """One check as a type sees it: its id, its parameters and the value it expects; the id of
    the user who created it, for a type that acts with that user's credentials (the ML inference
    check sends their API token, looked up at run time and never kept in the parameters); and its
    workspace's egress allow-list, the internal addresses a type that connects somewhere may reach
    beyond public ones (core.egress)."""

    id: int
    params: dict[str, Any]
    expected: Any
    owner_id: int | None = None
    egress_allow: tuple[str, ...] = ()


@dataclass
class Observation:
    """What a check saw: PASS / FAIL / ERROR, the observed value, and the evidence behind it
    (AWS field path -> value, e.g. {"Subnets[0].MapPublicIpOnLaunch": True})."""

    status: str
    observed: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    message: str = ""

    @classmethod
    def judged(cls, observed: Any, expected: Any, evidence: dict[str, Any], message: str = "") -> Observation:
        return cls(PASS if observed == expected else FAIL, observed, evidence, message=message)

    @classmethod
    def error(cls, code: str, message: str, evidence: dict[str, Any] | None = None) -> Observation:
        return cls(ERROR, None, evidence or {}, error_code=code, message=message)


class CallLog:
    """The AWS calls a collection made ("ec2.DescribeSubnets", one entry per page), for the run's record."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.started = time.monotonic()

    def call(self, client, operation: str, **kwargs) -> dict[str, Any]:
        self.calls.append(api_name(client, operation))
        return getattr(client, operation)(**kwargs)

    def pages(self, client, operation: str, **kwargs) -> Iterator[dict[str, Any]]:
        """Each page, recorded as it is requested: a throttled or denied page is a call too."""
        name = api_name(client, operation)
        pages = iter(client.get_paginator(operation).paginate(**kwargs))
        while True:
            self.calls.append(name)
            try:
                page = next(pages)
            except StopIteration:
                self.calls.pop()  # the request after the last page was never made
                return
            yield page


def api_name(client, operation: str) -> str:
    """ "ec2.DescribeSubnets" for (an ec2 client, "describe_subnets"), by botocore's own mapping
    (capitalising words would give rds "DescribeDbInstances", not "DescribeDBInstances")."""
    api = client.meta.method_to_api_mapping.get(operation) or "".join(p.capitalize() for p in operation.split("_"))
    return f"{client.meta.service_model.service_name}.{api}"


def aws_error(error: Exception, operation: str) -> Observation:
    """An AWS failure as an ERROR observation: the operation and code, and for AccessDenied the permission."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", "")
        if getattr(error, "operation_name", "") == "AssumeRole":
            # The environment's role, not the describe call: botocore assumes it on first use.
            return Observation.error(code, f"sts:AssumeRole failed, so {operation} was not made: {message}".strip())
        if "AccessDenied" in code or "UnauthorizedOperation" in code:
            service, _, action = operation.partition(".")
            message = f"Missing permission {service}:{action}. {message}".strip()
        return Observation.error(code, f"{operation}: {message}")
    if isinstance(error, BotoCoreError):
        return Observation.error(type(error).__name__, f"{operation}: {error}")
    raise error


ClientFor = Callable[[str], Any]  # service name -> a boto3 client of the group's environment and region


@dataclass(frozen=True)
class GroupClients:
    """The `client_for` a runner passes: clients of one environment and region; `environment` for a
    type that walks AWS through another module (the ECS diagnosis)."""

    environment: Any
    region: str

    def __call__(self, service: str):
        from .. import aws

        return aws.client(service, region=self.region, environment=self.environment)


class CheckType:
    """Subclasses set `code`, `label`, `resource` and implement `clean` and `collect`."""

    code: ClassVar[str]
    label: ClassVar[str]
    # Checks of one type are collected together per (environment, region); `needs_aws` False for
    # types that talk to something else (an HTTP endpoint).
    needs_aws: ClassVar[bool] = True
    # True for a type that sends its check's owner's API token (`Target.owner_id`): whoever changes
    # such a check's definition becomes its owner, so nobody can point another user's token elsewhere.
    sends_owner_token: ClassVar[bool] = False
    # A short description of the parameters and expected value, for forms and the API.
    help: ClassVar[str] = ""

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        """Validate and normalise; raise ValidationError({"params": ...} or {"expected": ...})."""
        raise NotImplementedError

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        """Observe every target in as few calls as possible; an Observation for each target id."""
        raise NotImplementedError


registry: dict[str, CheckType] = {}


def register(cls: type[CheckType]) -> type[CheckType]:
    registry[cls.code] = cls()
    return cls


def require(params: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise ValidationError({"params": f"Missing: {', '.join(missing)}."})


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def get_type(code: str) -> CheckType:
    """The registered type with this code, or a ValidationError naming the known ones."""
    try:
        return registry[code]
    except KeyError:
        known = ", ".join(sorted(registry)) or "none"
        raise ValidationError({"type": f"Unknown check type {code!r}; known: {known}."}) from None
