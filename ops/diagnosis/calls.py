"""The AWS plumbing of the walk: calls and pages that record themselves, batched filters, and an AWS
failure turned into words (the operation, the code, the missing permission)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"})
NOT_IMPLEMENTED = frozenset({"NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation"})
# EC2 takes at most 200 values in one filter; a service with more tasks than that is split.
FILTER_VALUES = 200


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Unknown(Exception):
    """The step cannot tell. The message is for people (operation, code, permission)."""


class Skipped(Exception):
    """The step has nothing to look at (e.g. no running task, so no ENI)."""


class AwsCallFailed(Exception):
    """An AWS call of the walk failed; `code` is the AWS error code (or the botocore error's name)."""

    def __init__(self, operation: str, error: Exception) -> None:
        super().__init__(explain_aws_error(error, operation))
        self.operation, self.error = operation, error
        self.code = (
            error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else type(error).__name__
        )

    @property
    def denied(self) -> bool:
        return self.code in ACCESS_DENIED


def permission(operation: str) -> str:
    """The IAM action of "ec2.DescribeSubnets" (the signing name is IAM's prefix: elasticloadbalancing...)."""
    return operation.replace(".", ":", 1)


def explain_aws_error(error: Exception, operation: str) -> str:
    """An AWS failure in words: the operation, the code, the missing permission or the unimplemented call."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = info.get("Code", "Unknown"), info.get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ACCESS_DENIED:
            return f"{operation}: {code}, missing permission {permission(operation)}."
        if code in NOT_IMPLEMENTED or status == 501:
            return f"{operation}: this endpoint does not implement it ({code})."
        if status and status >= 500:
            return f"{operation}: AWS answered HTTP {status} {code} after the retries; try again later."
        return f"{operation}: {code}: {message}".rstrip(": ")
    if isinstance(error, ResponseParserError):
        # moto answers calls it does not implement with an HTML 500 page.
        return f"{operation}: the endpoint's answer is not an AWS response; it probably does not implement it."
    if isinstance(error, NoCredentialsError):
        return f"{operation}: no AWS credentials in the standard chain (environment, profile, instance role)."
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return f"{operation}: could not reach the endpoint ({type(error).__name__})."
    return f"{operation}: {type(error).__name__}: {error}"


FAILURES = (ClientError, BotoCoreError, ResponseParserError)


class AwsCalls:
    """Calls for one diagnosis: each one is recorded in `calls` ("ec2.DescribeSubnets"), for its step."""

    def __init__(self, *, region: str, environment: Any) -> None:
        self.region, self.environment = region, environment
        self.calls: list[str] = []

    def client(self, service: str, region: str | None = None):
        # ops.aws brings boto3 and botocore's session: imported by a walk, not by every page and
        # command that imports the diagnosis's names (manage.py check loads the ops views).
        from ops import aws

        return aws.client(service, region=region or self.region, environment=self.environment)

    @staticmethod
    def _operation(client, method: str) -> str:
        model = client.meta.service_model
        return f"{model.signing_name}.{client.meta.method_to_api_mapping[method]}"

    def call(self, client, method: str, **kwargs) -> dict[str, Any]:
        operation = self._operation(client, method)
        self.calls.append(operation)
        try:
            return getattr(client, method)(**kwargs)
        except FAILURES as error:
            raise AwsCallFailed(operation, error) from error

    def pages(self, client, method: str, key: str, **kwargs) -> list[dict[str, Any]]:
        operation = self._operation(client, method)
        items: list[dict[str, Any]] = []
        try:
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**kwargs):
                    self.calls.append(operation)
                    items.extend(page.get(key) or [])
                return items
            token = None  # botocore has no paginator for some newer calls: follow NextToken by hand
            while True:
                page = getattr(client, method)(**kwargs, **({"NextToken": token} if token else {}))
                self.calls.append(operation)
                items.extend(page.get(key) or [])
                token = page.get("NextToken")
                if not token:
                    break
        except FAILURES as error:
            self.calls.append(operation)  # the page that failed
            raise AwsCallFailed(operation, error) from error
        return items

    def filtered(self, client, method: str, key: str, *, name: str, values: list[str]) -> list[dict[str, Any]]:
        """An EC2 describe filtered on `name`, FILTER_VALUES values per call (one call for most services)."""
        items: list[dict[str, Any]] = []
        for batch in chunked(sorted(set(values)), FILTER_VALUES):
            items += self.pages(client, method, key, Filters=[{"Name": name, "Values": batch}])
        return items
