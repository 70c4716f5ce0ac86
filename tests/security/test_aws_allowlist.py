"""Issue #13, "checks read metadata only": the free-form `aws_call` check makes only the operations
of ops/checks/aws_allowlist.py, and those describe configuration and state, never data.

Both ways:
- every allowed (service, operation) exists in botocore, reads (Describe/List/Get; GET on REST
  APIs; no stream), and its output shape has no member holding data or a secret (botocore's
  `sensitive` marks and names like UserData, Environment, Password, Token...) that is not dropped
  from the answer (REDACTED) or reviewed harmless below;
- known data-plane reads are refused through AwsCall.clean, the check-creation API and the
  services layer, with arguments that would otherwise be valid, and a check stored before the
  allowlist is not made.

Before the allowlist, AwsCall.clean ACCEPTED (with valid arguments) every pair in
ACCEPTED_BEFORE_ISSUE_13 below: those are the holes. The other data reads were already refused, by
the old denylist (botocore `sensitive` marks, secret words, streams) or because their names do not
start with Describe/List/Get; their tests now check the data-read message instead.

And docs/iam-policy.md's policy is exactly `aws_allowlist.iam_policy()`, which covers every call
the typed checks and the ECS diagnosis make.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.stub import Stubber
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from ops import services
from ops.checks import aws_allowlist, generic, registry
from ops.checks.base import ERROR, CallLog, Target
from ops.models import Check

ROOT = Path(__file__).resolve().parents[2]
REST = {"rest-json", "rest-xml"}

# Data-plane reads that must be refused. DATA_READS holds their reasons; this list is the issue's
# own, so that dropping one from DATA_READS cannot quietly make it allowed.
DATA_PLANE_READS = [
    ("athena", "GetQueryResults"),
    ("apigateway", "GetApiKeys"),
    ("autoscaling", "DescribeLaunchConfigurations"),
    ("cloudformation", "GetTemplate"),
    ("codecommit", "GetBlob"),
    ("codecommit", "GetFile"),
    ("dynamodb", "BatchGetItem"),
    ("dynamodb", "GetItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "Scan"),
    ("ec2", "DescribeInstanceAttribute"),
    ("ec2", "GetConsoleOutput"),
    ("ec2", "GetPasswordData"),
    ("ecr", "BatchGetImage"),
    ("ecr", "GetAuthorizationToken"),
    ("ecr", "GetDownloadUrlForLayer"),
    ("ecs", "DescribeTaskDefinition"),
    ("ecs", "DescribeTasks"),
    ("glue", "GetConnection"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("kinesis", "GetRecords"),
    ("lambda", "GetFunction"),
    ("lambda", "GetFunctionConfiguration"),
    ("lambda", "ListFunctions"),
    ("logs", "FilterLogEvents"),
    ("logs", "GetLogEvents"),
    ("rds", "DownloadDBLogFilePortion"),
    ("s3", "GetObject"),
    ("s3", "ListObjects"),
    ("s3", "ListObjectsV2"),
    ("secretsmanager", "GetSecretValue"),
    ("sqs", "ReceiveMessage"),
    ("ssm", "GetCommandInvocation"),
    ("ssm", "GetParameter"),
    ("ssm", "GetParameters"),
    ("ssm", "GetParametersByPath"),
]

# What the old refusal() let through with valid arguments (measured against the code before the
# allowlist): each is refused now.
ACCEPTED_BEFORE_ISSUE_13 = {
    ("apigateway", "GetApiKey"),
    ("apigateway", "GetApiKeys"),
    ("athena", "GetQueryResults"),
    ("autoscaling", "DescribeLaunchConfigurations"),
    ("cloudformation", "DescribeStacks"),
    ("cloudformation", "GetTemplate"),
    ("codecommit", "GetBlob"),
    ("codecommit", "GetFile"),
    ("codecommit", "GetFolder"),
    ("dynamodb", "GetItem"),
    ("dynamodbstreams", "GetRecords"),
    ("ec2", "DescribeInstanceAttribute"),
    ("ec2", "GetConsoleOutput"),
    ("ec2", "GetConsoleScreenshot"),
    ("ecr", "GetDownloadUrlForLayer"),
    ("glue", "GetConnection"),
    ("glue", "GetConnections"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("kinesis", "GetRecords"),
    ("logs", "GetLogEvents"),
    ("logs", "GetLogRecord"),
    ("logs", "GetQueryResults"),
    ("s3", "GetObjectAttributes"),
    ("s3", "ListObjectVersions"),
    ("s3", "ListObjects"),
    ("s3", "ListObjectsV2"),
    ("ssm", "GetCommandInvocation"),
    ("cloudwatch", "GetMetricData"),
    ("cloudwatch", "GetMetricStatistics"),
}

# Output member names that hold data or secrets, wherever they are in an allowed operation's answer.
DATA_NAMES = re.compile(
    r"userdata|environment|variables|password|secret|token|credential|privatekey|accesskey|"
    r"template(body)?$|body$|payload|contents?$|blob|command|(?<!de)(?<!sub)script|^data$|^items?$|^records$|"
    r"^events$|^messages$|^results?$|^rows$|header|certificatebody|^output",
    re.IGNORECASE,
)

# Members DATA_NAMES matches in allowed operations' answers, each looked at: not data. A key is the
# end of a member's path ("MasterUserSecret.SecretArn" matches "DBInstances[].MasterUserSecret.SecretArn").
HARMLESS = {
    "NextToken": "pagination",
    "nextToken": "pagination",
    "ContinuationToken": "pagination",
    "ClientToken": "EC2's idempotency token of the launch request, not a credential",
    "HttpTokens": "the instance metadata setting (required / optional)",
    "uploadSequenceToken": "CloudWatch Logs' write-order counter, not a credential",
    "bearerTokenAuthenticationEnabled": "a boolean setting",
    "enableExecuteCommand": "a boolean setting",
    "executeCommandConfiguration": "KMS key and logging settings of ECS Exec",
    "secretOptions": "ECS log configuration's secrets by ARN (name, valueFrom), not their values",
    "services.events": "ECS service events: 'service x has reached a steady state'",
    "InstanceStatuses.Events": "EC2 scheduled events (reboots, retirements)",
    "TopicConfigurations.Events": "S3 notification event names (s3:ObjectCreated:*)",
    "QueueConfigurations.Events": "S3 notification event names",
    "LambdaFunctionConfigurations.Events": "S3 notification event names",
    "AvailabilityZones.Messages": "availability zone notices",
    "header": "an ECS Service Connect test-traffic match rule (config)",
    "HostHeaderConfig": "an ELB rule's host match (config)",
    "HttpHeaderConfig": "an ELB rule's header match (config)",
    "HttpHeaderName": "an ELB rule's header name (config)",
    "HostHeaderRewriteConfig": "an ELB rule's rewrite (config)",
    "UseExistingClientSecret": "a boolean setting",
    "TokenEndpoint": "the OIDC provider's token URL (config)",
    "MessageBody": "an ELB fixed-response action's configured text (config)",
    "AllowCredentials": "a CORS setting (boolean)",
    "AllowHeaders": "a CORS setting",
    "ExposeHeaders": "a CORS setting",
    "AllowedHeaders": "a CORS setting",
    "LaunchTemplates": "launch template names and versions (the data is in DescribeLaunchTemplateVersions)",
    "LaunchTemplateId": "an id",
    "LaunchTemplateName": "a name",
    "LaunchTemplate": "a launch template reference (id, name, version)",
    "LaunchTemplateSpecification": "a launch template reference",
    "MixedInstancesPolicy": "instance types and a launch template reference",
    "instanceLaunchTemplate": "ECS managed instances: profile, network, storage, instance requirements; no user data",
    "AnomalyDetection.Result": "ELB target anomaly detection: anomalous / normal",
    "TdeCredentialArn": "the ARN of an RDS TDE key store credential, not the credential",
    "AuthSecretArn": "the ARN of a Secrets Manager secret, not its value",
    "MasterUserSecret": "RDS's managed master password: the secret's ARN, status and KMS key, not its value",
    "MasterUserSecret.SecretArn": "the ARN of a Secrets Manager secret, not its value",
    "MasterUserSecret.SecretStatus": "active / creating / rotating...",
}


def harmless(path: str) -> bool:
    parts = [part.rstrip("[]") for part in path.split(".")]
    return any(parts[-len(key.split(".")) :] == key.split(".") for key in HARMLESS)


@pytest.fixture(autouse=True)
def _in_a_savepoint():
    """Instead of the package's: these tests need no `world` of two operations, and the ones that
    touch the database ask for `db` (through `team` or `environment`) themselves."""
    yield


# --- helpers ---------------------------------------------------------------------------------------


def minimal_arguments(shape) -> Any:
    """Valid arguments for an input shape: each required member with a value of its type."""
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal_arguments(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [minimal_arguments(shape.member)] * max(1, shape.metadata.get("min", 1))
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    raise AssertionError(f"no minimal value for a {kind}")


def aws_call(service: str, operation: str, *, snake: bool = False) -> dict[str, Any]:
    """aws_call params for `operation` (CamelCase), with valid arguments; named in snake_case if asked."""
    model = generic._model(service).operation_model(operation)
    arguments = minimal_arguments(model.input_shape)
    name = xform_name(operation) if snake else operation
    return {"service": service, "operation": name, "arguments": arguments, "expression": "@"}


def clean(params: dict[str, Any]):
    return registry.get("aws_call").clean(params, None)


def refused(params: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        clean(params)
    return " ".join(caught.value.message_dict["params"])


def members(shape, path: str = "", seen: frozenset[str] = frozenset()):
    """(path, name, shape) of every member of an output shape, as generic._sensitive_members names paths."""
    if shape is None or shape.name in seen:
        return
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            at = f"{path}.{name}" if path else name
            yield at, name, member
            yield from members(member, at, seen)
    elif shape.type_name == "list":
        yield from members(shape.member, f"{path}[]", seen)
    elif shape.type_name == "map":
        yield from members(shape.value, f"{path}.*", seen)


def under(path: str, redacted: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(f"{r}.") or path.startswith(f"{r}[") for r in redacted)


ALLOWED = aws_allowlist.pairs()


# --- every allowed operation is a metadata read ---------------------------------------------------


def test_the_allowlist_covers_the_services_a_rollout_checks():
    assert set(aws_allowlist.ALLOWLIST) >= {"ec2", "ecs", "elbv2", "ecr", "rds", "route53", "cloudwatch", "s3"}
    assert len(ALLOWED) == len(set(ALLOWED)) > 100


@pytest.mark.parametrize(("service", "operation"), ALLOWED, ids=[f"{s}.{o}" for s, o in ALLOWED])
def test_an_allowed_operation_exists_reads_and_is_accepted(service, operation):
    assert service in botocore.session.get_session().get_available_services()
    model = generic._model(service)
    assert operation in model.operation_names, f"botocore's {service} has no {operation}"
    op = model.operation_model(operation)
    assert operation.startswith(("Describe", "List", "Get"))
    if model.protocol in REST:
        assert op.http["method"] == "GET", f"{service}.{operation} is a {op.http['method']}"
    assert not op.has_streaming_output and not op.has_event_stream_output
    assert generic.refusal(service, op) == ""
    params, _ = clean(aws_call(service, operation, snake=True))
    assert params["operation"] == operation


@pytest.mark.parametrize(("service", "operation"), ALLOWED, ids=[f"{s}.{o}" for s, o in ALLOWED])
def test_an_allowed_operation_answers_no_data_and_no_secret(service, operation):
    op = generic._model(service).operation_model(operation)
    redacted = aws_allowlist.REDACTED.get((service, operation), ())
    sensitive = [path for path in generic._sensitive_members(op.output_shape) if not under(path, redacted)]
    assert sensitive == [], f"botocore marks these sensitive: {sensitive}"
    suspicious = [
        path
        for path, name, _ in members(op.output_shape)
        if DATA_NAMES.search(name) and not harmless(path) and not under(path, redacted)
    ]
    assert suspicious == [], f"review these members (redact them, or add them to HARMLESS with why): {suspicious}"


@pytest.mark.parametrize(("service", "operation"), sorted(aws_allowlist.REDACTED))
def test_a_redacted_path_is_a_member_of_an_allowed_operations_answer(service, operation):
    assert aws_allowlist.allowed(service, operation)
    op = generic._model(service).operation_model(operation)
    paths = {path for path, _, _ in members(op.output_shape)}
    for path in aws_allowlist.REDACTED[(service, operation)]:
        assert path in paths, f"{service}.{operation} has no member {path}"


def test_the_name_check_catches_what_the_issue_measured():
    """The heuristic above would have flagged the leaks of issue #13, had they been allowlisted."""
    for service, operation, member in [
        ("ec2", "DescribeInstanceAttribute", "UserData"),
        ("dynamodb", "GetItem", "Item"),
        ("logs", "GetLogEvents", "events"),
        ("lambda", "GetFunctionConfiguration", "Environment"),
        ("ecs", "DescribeTaskDefinition", "environment"),
        ("autoscaling", "DescribeLaunchConfigurations", "UserData"),
        ("cloudformation", "GetTemplate", "TemplateBody"),
        ("kinesis", "GetRecords", "Records"),
        ("codecommit", "GetFile", "fileContent"),
        ("elbv2", "DescribeListeners", "ClientSecret"),
    ]:
        op = generic._model(service).operation_model(operation)
        names = {name for path, name, _ in members(op.output_shape) if DATA_NAMES.search(name) and not harmless(path)}
        assert member in names, (service, operation, member)


# --- data-plane reads are refused -----------------------------------------------------------------


@pytest.mark.parametrize(("service", "operation"), DATA_PLANE_READS, ids=[f"{s}.{o}" for s, o in DATA_PLANE_READS])
def test_a_data_plane_read_is_refused_with_valid_arguments(service, operation):
    assert operation in generic._model(service).operation_names
    assert not aws_allowlist.allowed(service, operation)
    text = refused(aws_call(service, operation))
    assert f"{service}.{operation} reads data (" in text and "docs/iam-policy.md" in text


@pytest.mark.parametrize(
    ("service", "operation"),
    sorted(ACCEPTED_BEFORE_ISSUE_13),
    ids=[f"{s}.{o}" for s, o in sorted(ACCEPTED_BEFORE_ISSUE_13)],
)
def test_what_was_accepted_before_the_allowlist_is_refused(service, operation):
    text = refused(aws_call(service, operation))
    assert "reads data" in text or "is not on the metadata allowlist" in text


def test_every_known_data_read_is_a_real_operation_and_not_allowed():
    for (service, operation), what in aws_allowlist.DATA_READS.items():
        assert operation in generic._model(service).operation_names, (service, operation)
        assert not aws_allowlist.allowed(service, operation), (service, operation)
        assert what


def test_an_unlisted_read_is_refused_by_default_with_the_reason():
    text = refused(aws_call("ec2", "DescribeKeyPairs"))
    assert text == (
        "operation: ec2.DescribeKeyPairs is not on the metadata allowlist: aws_call reads configuration and "
        "state only (items, objects, log events, messages, parameters, secrets, user data, environment "
        "variables are data). See docs/iam-policy.md for the operations it allows."
    )
    assert refused(aws_call("dynamodb", "GetItem")) == (
        "operation: dynamodb.GetItem reads data (a table's items), not metadata: aws_call never makes it, "
        "because a check's observed value is shown to everyone who can see the operation. See docs/iam-policy.md."
    )
    assert "not a read-only operation" in refused(aws_call("ec2", "TerminateInstances"))


@pytest.fixture
def environment(workspace):
    return services.environment_create(
        workspace=workspace, name="prod", account_id="123456789012", regions=["us-east-1"]
    )


def test_the_api_refuses_a_data_read_and_saves_nothing(team, teammate, environment):
    api = APIClient()
    api.force_authenticate(teammate)
    url = f"/api/operations/{team.slug}/checks/"
    base = {"name": "Card", "type": "aws_call", "environment": environment.pk, "region": "us-east-1"}
    get_item = {"service": "dynamodb", "operation": "GetItem", "expression": "Item.card.S"}
    get_item["arguments"] = {"TableName": "payments", "Key": {"id": {"S": "1"}}}

    response = api.post(url, {**base, "params": get_item}, format="json")

    assert response.status_code == 400, response.content
    assert "dynamodb.GetItem reads data (a table's items)" in json.dumps(response.json())
    assert not Check.objects.exists()

    vpcs = {"service": "ec2", "operation": "describe_vpcs", "expression": "Vpcs[].CidrBlock"}
    assert api.post(url, {**base, "name": "VPCs", "params": vpcs}, format="json").status_code == 201


def test_the_services_layer_refuses_a_data_read(team, teammate, environment):
    with pytest.raises(ValidationError) as caught:
        services.check_create(
            operation=team,
            name="User data",
            type="aws_call",
            actor=teammate,
            environment=environment,
            region="us-east-1",
            params={
                "service": "ec2",
                "operation": "describe_instance_attribute",
                "arguments": {"InstanceId": "i-0123456789abcdef0", "Attribute": "userData"},
                "expression": "UserData.Value",
            },
        )
    assert "ec2.DescribeInstanceAttribute reads data (an instance's user data)" in str(caught.value)
    assert not Check.objects.exists()


def test_a_check_stored_before_the_allowlist_is_not_made():
    def no_client(service):
        raise AssertionError(f"a {service} client was asked for")

    stored = {"service": "logs", "operation": "GetLogEvents", "arguments": {"logGroupName": "g", "logStreamName": "s"}}
    targets = [Target(id=1, params={**stored, "expression": "events[].message"}, expected=[])]
    calls = CallLog()

    [observation] = (
        registry.get("aws_call").collect(targets, client_for=no_client, region="us-east-1", calls=calls).values()
    )

    assert observation.status == ERROR and observation.error_code == "NotOnMetadataAllowlist"
    assert "logs.GetLogEvents reads data (log events)" in observation.message
    assert observation.observed is None and calls.calls == []


# --- what is dropped from an allowed answer ---------------------------------------------------------


def stubbed(service: str, operation: str, response: dict[str, Any]):
    session = botocore.session.get_session()
    client = session.create_client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.add_response(operation, response)
    stubber.activate()
    return client


@pytest.mark.parametrize(
    ("service", "operation", "response", "gone", "kept"),
    [
        (
            "elbv2",
            "describe_listeners",
            {
                "Listeners": [
                    {
                        "Port": 443,
                        "DefaultActions": [
                            {
                                "Type": "authenticate-oidc",
                                "AuthenticateOidcConfig": {
                                    "Issuer": "https://id.example.com",
                                    "AuthorizationEndpoint": "https://id.example.com/auth",
                                    "TokenEndpoint": "https://id.example.com/token",
                                    "UserInfoEndpoint": "https://id.example.com/me",
                                    "ClientId": "snail",
                                    "ClientSecret": "oidc-client-secret-1234",
                                },
                            }
                        ],
                    }
                ]
            },
            "oidc-client-secret-1234",
            "https://id.example.com/token",
        ),
        (
            "rds",
            "describe_db_instances",
            {
                "DBInstances": [
                    {
                        "DBInstanceIdentifier": "orders",
                        "StorageEncrypted": True,
                        "PendingModifiedValues": {"MasterUserPassword": "db-password-5678"},
                    }
                ]
            },
            "db-password-5678",
            "orders",
        ),
        (
            "s3",
            "get_bucket_encryption",
            {
                "ServerSideEncryptionConfiguration": {
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/kms-key-9012",
                            }
                        }
                    ]
                }
            },
            "kms-key-9012",
            "aws:kms",
        ),
    ],
)
def test_a_redacted_member_never_reaches_the_observed_value(service, operation, response, gone, kept):
    client = stubbed(service, operation, response)
    arguments = {"Bucket": "b"} if service == "s3" else {}
    params, _ = clean({"service": service, "operation": operation, "arguments": arguments, "expression": "@"})
    targets = [Target(id=1, params=params, expected=None)]

    [observation] = (
        registry.get("aws_call")
        .collect(targets, client_for=lambda _: client, region="us-east-1", calls=CallLog())
        .values()
    )

    shown = json.dumps([observation.observed, observation.evidence, observation.message])
    assert gone not in shown and kept in shown
    assert observation.evidence["redacted"] == list(aws_allowlist.REDACTED[(service, params["operation"])])


def test_redact_walks_lists_and_maps_and_skips_what_is_absent():
    answer = {"A": [{"B": {"x": {"C": 1, "D": 2}}}, {"B": None}, "odd"], "E": 3}
    generic.redact(answer, "A[].B.*.C")
    generic.redact(answer, "Missing[].Path")
    assert answer == {"A": [{"B": {"x": {"D": 2}}}, {"B": None}, "odd"], "E": 3}
    with pytest.raises(ValueError):
        generic.redact(answer, "A[]")


# --- the IAM policy ---------------------------------------------------------------------------------

POLICY_MARK = "<!-- iam-policy: ops.checks.aws_allowlist.iam_policy() -->"


def documented_policy() -> dict[str, Any]:
    text = (ROOT / aws_allowlist.DOC).read_text()
    assert POLICY_MARK in text, f"{aws_allowlist.DOC} lost its policy mark"
    block = re.search(r"```json\n(.*?)\n```", text.split(POLICY_MARK, 1)[1], re.DOTALL)
    assert block, "no ```json block after the policy mark"
    return json.loads(block.group(1))


def test_the_documented_policy_is_the_generated_one():
    assert documented_policy() == aws_allowlist.iam_policy(), (
        "docs/iam-policy.md is out of date; paste:\n" + json.dumps(aws_allowlist.iam_policy(), indent=2)
    )


def test_the_policy_reads_metadata_and_no_data():
    actions = aws_allowlist.iam_actions()
    assert all(re.fullmatch(r"[a-z0-9-]+:(Describe|List|Get)[A-Za-z0-9]+", action) for action in actions), actions
    assert len(actions) == len(set(actions))
    data = {aws_allowlist.iam_action(service, operation) for service, operation in DATA_PLANE_READS}
    data |= {aws_allowlist.iam_action(s, o) for s, o in aws_allowlist.DATA_READS}
    data |= {"s3:GetObject", "s3:ListBucket", "dynamodb:GetItem", "ssm:GetParameter", "lambda:GetFunction"}
    built_in_only = {aws_allowlist.iam_action(s, o) for s, o in aws_allowlist.BUILT_IN_CALLS}
    # Only the diagnosis's own reads of task definitions and tasks, whose answers it never shows.
    assert set(actions) & data == built_in_only & data == {"ecs:DescribeTaskDefinition", "ecs:DescribeTasks"}


def test_the_built_in_calls_are_every_call_the_typed_checks_and_the_diagnosis_make():
    sources = [p for p in (ROOT / "ops" / "checks").glob("*.py") if p.name not in {"generic.py", "aws_allowlist.py"}]
    sources += list((ROOT / "ops" / "diagnosis").glob("*.py"))
    made = set()
    for source in sources:
        made |= set(re.findall(r"\"((?:describe|list|get)_[a-z0-9_]+)\"", source.read_text()))
    made -= {"get_service_model", "get_session", "get_paginator"}
    listed = {xform_name(operation): (service, operation) for service, operation in aws_allowlist.BUILT_IN_CALLS}
    assert made, "found no AWS calls: has the code moved?"
    assert made <= set(listed), f"calls missing from BUILT_IN_CALLS (and the policy): {made - set(listed)}"
    for service, operation in aws_allowlist.BUILT_IN_CALLS:
        assert operation in generic._model(service).operation_names, (service, operation)
