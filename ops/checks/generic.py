"""A generic AWS metadata call: an operation on the reviewed allowlist
(ops/checks/aws_allowlist.py), a JMESPath expression over its answer, and the value that
expression should give.

A check's observed value is shown on pages, in the API, in the run history and in webhook
payloads, to everyone who can see the operation, so `aws_call` reads control-plane metadata only:
configuration and state (VPCs, services, target health, bucket settings...), never data (items,
objects, log events, messages, parameters, secrets, user data, environment variables). The
allowlist is deny-by-default: an operation not listed there is refused, with its own message when
it is a known data read (aws_allowlist.DATA_READS). See docs/iam-policy.md for the role's policy,
which is the real boundary.

Second lines of defence, for an allowed operation: the operation must exist in botocore's model and
be named Describe*/List*/Get*; it is refused if its name says it returns a secret (Password,
SecretValue, Credential, Token), if its output is a stream, or if its output shape has a member
botocore marks `sensitive` that the allowlist does not drop (aws_allowlist.REDACTED). Dropped
members are removed from the answer before any expression sees it.

Checks with the same service, operation and arguments share one call (paginated up to
MAX_PAGES pages), so many expressions over one `describe_vpcs` cost one request.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

import jmespath
import jmespath.exceptions
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from django.core.exceptions import ValidationError

from . import aws_allowlist
from .base import CallLog, CheckType, ClientFor, Observation, Target, aws_error, register
from .rules import Params, jsonable, without_metadata

if TYPE_CHECKING:  # botocore's session, model and validation are imported when a check needs them:
    # every process registers this type at startup, and they cost it a tenth of a second (issue #18).
    import botocore.session
    from botocore.model import OperationModel, ServiceModel, Shape

MAX_PAGES = 20
READ_PREFIXES = ("Describe", "List", "Get")
_SECRET_WORDS = re.compile(r"Password|SecretValue|Credential|Token")
# Pagination tokens say nothing about the resources; dropped from the merged answer (with those
# botocore's paginator model names for the operation).
_TOKENS = frozenset({"NextToken", "nextToken", "Marker", "NextMarker"})


@functools.cache
def _botocore() -> botocore.session.Session:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def _services() -> frozenset[str]:
    return frozenset(_botocore().get_available_services())


@functools.cache
def _model(service: str) -> ServiceModel:
    return _botocore().get_service_model(service)


def _operation(service: str, name: str) -> str | None:
    """The model's CamelCase name of `name` (snake or Camel), or None when the service has no such operation."""
    model = _model(service)
    if name in model.operation_names:
        return name
    return {xform_name(op): op for op in model.operation_names}.get(name)


def _sensitive_members(shape: Shape | None, path: str = "", seen: frozenset[str] = frozenset()) -> list[str]:
    if shape is None or shape.name in seen:
        return []
    found = [path or "(the whole answer)"] if shape.metadata.get("sensitive") else []
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            found += _sensitive_members(member, f"{path}.{name}" if path else name, seen)
    elif shape.type_name == "list":
        found += _sensitive_members(shape.member, f"{path}[]", seen)
    elif shape.type_name == "map":
        found += _sensitive_members(shape.value, f"{path}.*", seen)
    return found


def refusal(service: str, operation: OperationModel) -> str:
    """Why this operation may not be a check ("" when it may)."""
    name = operation.name
    called = f"{service}.{name}"
    data = aws_allowlist.DATA_READS.get((service, name))
    if data:
        return (
            f"{called} reads data ({data}), not metadata: aws_call never makes it, because a check's "
            f"observed value is shown to everyone who can see the operation. See {aws_allowlist.DOC}."
        )
    if not name.startswith(READ_PREFIXES):
        return (
            f"{called} is not a read-only operation: only allowlisted Describe*, List* and Get* "
            "operations can be checks."
        )
    if not aws_allowlist.allowed(service, name):
        return (
            f"{called} is not on the metadata allowlist: aws_call reads configuration and state only "
            "(items, objects, log events, messages, parameters, secrets, user data, environment variables "
            f"are data). See {aws_allowlist.DOC} for the operations it allows."
        )
    # An allowed operation that still looks dangerous: the allowlist is wrong, refuse anyway.
    if _SECRET_WORDS.search(name):
        return f"{name} can return a secret, and a check's observed value is shown on pages."
    if operation.has_streaming_output:
        return f"{name} returns a stream (file contents), not a document an expression can read."
    sensitive = _unredacted_sensitive_members(service, operation)
    if sensitive:
        shown = ", ".join(sensitive[:3]) + (" ..." if len(sensitive) > 3 else "")
        return f"{name} can return secret values ({shown}), and a check's observed value is shown on pages."
    return ""


def _unredacted_sensitive_members(service: str, operation: OperationModel) -> list[str]:
    redacted = set(aws_allowlist.REDACTED.get((service, operation.name), ()))
    return [
        path
        for path in _sensitive_members(operation.output_shape)
        if path not in redacted and not any(path.startswith(f"{r}.") or path.startswith(f"{r}[") for r in redacted)
    ]


def redact(answer: Any, path: str) -> None:
    """Remove the member at `path` ("A[].B.C"; "A.*.B" for a map's values) from `answer`, wherever
    the lists and maps on the way lead; a part of the path that is absent is skipped."""
    steps: list[tuple[str, str]] = []
    for part in path.split("."):
        if part == "*":
            steps.append(("values", ""))
            continue
        name = part.rstrip("[]")
        steps.append(("key", name))
        steps += [("each", "")] * ((len(part) - len(name)) // 2)
    if not steps or steps[-1][0] != "key":
        raise ValueError(f"{path!r} does not end in a member name")
    _redact(answer, steps)


def _redact(node: Any, steps: list[tuple[str, str]]) -> None:
    (kind, name), rest = steps[0], steps[1:]
    if kind == "key" and isinstance(node, dict) and name in node:
        if rest:
            _redact(node[name], rest)
        else:
            del node[name]
    elif kind == "each" and isinstance(node, list):
        for item in node:
            _redact(item, rest)
    elif kind == "values" and isinstance(node, dict):
        for value in node.values():
            _redact(value, rest)


@register
class AwsCall(CheckType):
    """An allowlisted AWS metadata operation, a JMESPath expression over its (merged, paginated,
    redacted) answer, and the value it should give. Observed is the expression's result."""

    code = "aws_call"
    label = "AWS metadata call"
    help = (
        "params: service (e.g. ec2), operation (snake_case or CamelCase, on the metadata allowlist: "
        "configuration and state such as ec2 describe_vpcs, ecs describe_services, elbv2 describe_target_health; "
        f"see {aws_allowlist.DOC}), arguments (object, optional), expression (JMESPath over the answer). "
        "expected: the value the expression should give (any JSON). Reads of data (items, objects, log "
        "events, parameters, secrets, user data, environment variables) are refused."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["service", "operation", "arguments", "expression"])
        service = p.text("service", max_length=64)
        name = p.text("operation", max_length=128)
        arguments = p.mapping("arguments", required=False)
        expression = p.text("expression", max_length=1000)
        if service is not None and service not in _services():
            p.fail("service", f"{service!r} is not an AWS service botocore knows (e.g. ec2, ecs, elbv2).")
            service = None
        if service is not None and name is not None:
            operation = _operation(service, name)
            if operation is None:
                p.fail("operation", f"{service} has no operation {name!r}.")
            else:
                model = _model(service).operation_model(operation)
                problem = refusal(service, model)
                if problem:
                    p.fail("operation", problem)
                else:
                    p.cleaned["operation"] = operation
                    if arguments is not None:
                        from botocore.validate import validate_parameters

                        try:
                            validate_parameters(arguments, model.input_shape)
                        except ParamValidationError as error:
                            p.fail("arguments", str(error).replace("\n", " "))
        if expression is not None:
            try:
                jmespath.compile(expression)
            except jmespath.exceptions.JMESPathError as error:
                p.fail("expression", f"not a valid JMESPath expression ({error}).")
        cleaned = p.done()
        try:
            json.dumps(expected)
        except (TypeError, ValueError):
            raise ValidationError(
                {"expected": "The expected value must be JSON (text, number, true/false, list...)."}
            ) from None
        return cleaned, expected

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        groups: dict[tuple[str, str, str], list[Target]] = {}
        for target in targets:
            p = target.params
            key = (p["service"], p["operation"], json.dumps(p.get("arguments") or {}, sort_keys=True))
            groups.setdefault(key, []).append(target)

        observations: dict[int, Observation] = {}
        for (service, operation, arguments), members in groups.items():
            # A check saved before the allowlist (or before an operation left it) is not made.
            problem = _stored_refusal(service, operation)
            if problem:
                refused = Observation.error("NotOnMetadataAllowlist", problem)
                observations.update({target.id: refused for target in members})
                continue
            client = client_for(service)
            # As the IAM action, for "Missing permission x:Y" (S3's differ from the operation's name).
            iam = aws_allowlist.iam_action(service, operation).replace(":", ".", 1)
            try:
                answer, pages, truncated = _fetch(client, operation, json.loads(arguments), calls)
            except (ClientError, BotoCoreError) as error:
                failed = aws_error(error, iam)
                observations.update({target.id: failed for target in members})
                continue
            redacted = aws_allowlist.REDACTED.get((service, operation), ())
            for path in redacted:
                redact(answer, path)
            for target in members:
                expression = target.params["expression"]
                observed = jsonable(jmespath.search(expression, answer))
                evidence = {"operation": f"{service}.{operation}", "expression": expression, "pages": pages}
                if redacted:
                    evidence["redacted"] = list(redacted)
                message = ""
                if truncated:
                    evidence["truncated"] = True
                    message = f"Only the first {MAX_PAGES} pages were read."
                observations[target.id] = Observation.judged(observed, target.expected, evidence, message)
        return observations


def _stored_refusal(service: str, operation: str) -> str:
    """refusal() for a stored check's (service, operation), which was cleaned when saved, maybe long ago."""
    if service not in _services() or _operation(service, operation) != operation:
        return f"{service}.{operation} is not an operation botocore knows."
    return refusal(service, _model(service).operation_model(operation))


def _fetch(client, operation: str, arguments: dict[str, Any], calls: CallLog) -> tuple[dict[str, Any], int, bool]:
    """The operation's answer, its pages merged as botocore's `build_full_result` would; pages read; truncated."""
    snake = xform_name(operation)
    if not client.can_paginate(snake):
        return without_metadata(calls.call(client, snake, **arguments)), 1, False
    result_keys = [key.expression for key in client.get_paginator(snake).result_keys]
    tokens = _output_tokens(client.meta.service_model.service_name, operation)
    merged: dict[str, Any] = {}
    pages = 0
    for page in calls.pages(client, snake, **arguments):
        page = without_metadata(page)
        pages += 1
        if pages == 1:
            merged = page
        else:
            _merge(merged, page, result_keys)
        if pages == MAX_PAGES:
            # Stop before asking for a page that would not be read; say whether there was one.
            return _drop(merged, tokens), pages, any(page.get(token) for token in tokens)
    return _drop(merged, tokens), pages, False


@functools.cache
def _output_tokens(service: str, operation: str) -> frozenset[str]:
    """The answer's keys that only say where the next page starts (NextToken, Marker...), from
    botocore's paginator model; an expression such as S3's `NextMarker || Contents[-1].Key` gives its first key."""
    config = _botocore().get_paginator_model(service).get_paginator(operation)
    tokens = config.get("output_token") or []
    tokens = [tokens] if isinstance(tokens, str) else tokens
    return frozenset(re.split(r"[\s|.\[]", token, maxsplit=1)[0] for token in tokens) | _TOKENS


def _merge(merged: dict[str, Any], page: dict[str, Any], result_keys: list[str]) -> None:
    for key in result_keys:
        more = jmespath.search(key, page)
        have = jmespath.search(key, merged)
        if isinstance(have, list) and isinstance(more, list):
            have.extend(more)
        elif have is None and more is not None and "." not in key:
            merged[key] = more


def _drop(answer: dict[str, Any], tokens: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key not in tokens}
