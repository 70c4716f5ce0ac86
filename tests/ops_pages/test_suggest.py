"""Checks offered for a finding: the example's investigation results and the ways people write them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ops.suggest import Suggestion, plain, suggestions_for
from tests.conftest import EXAMPLE
from tracker.lib import parser


@dataclass
class F:
    """A finding as the tracker has it (the model and the parser's Finding share these names)."""

    subject: str
    observed: str = ""
    expected: str = ""
    verdict: str = "correct"
    note: str = ""
    pk: int | None = None


def offered(finding: F) -> list[tuple[str, dict, object, tuple[str, ...]]]:
    return [(s.type, s.params, s.expected, s.missing) for s in suggestions_for(finding)]


# --- the example's findings -------------------------------------------------------------------------


def example_findings() -> dict[str, object]:
    document = parser.parse(EXAMPLE.read_text())
    return {finding.subject: finding for phase in document.phases for finding in phase.findings}


def test_it_offers_a_check_for_each_finding_of_the_example_that_names_a_known_type():
    findings = example_findings()

    assert {subject: offered(finding) for subject, finding in findings.items()} == {
        "Subnet Configuration": [
            ("subnet_attribute", {"subnet_id": "", "attribute": "MapPublicIpOnLaunch"}, True, ("subnet_id",))
        ],
        "Route Tables": [("subnet_internet_route", {"subnet_id": ""}, True, ("subnet_id",))],
        "ECS Service": [
            (
                "ecs_service_network",
                {"cluster": "", "service": "", "field": "assignPublicIp"},
                "ENABLED",
                ("cluster", "service"),
            )
        ],
        "VPC DNS": [
            ("vpc_attribute", {"vpc_id": "", "attribute": "enableDnsHostnames"}, True, ("vpc_id",)),
            ("vpc_attribute", {"vpc_id": "", "attribute": "enableDnsSupport"}, True, ("vpc_id",)),
        ],
        "Root Cause": [],
    }


def test_it_names_the_suggestion_after_the_finding_and_says_why():
    [suggestion] = suggestions_for(F("Subnet Configuration", "`MapPublicIpOnLaunch: True`", pk=7))

    assert suggestion == Suggestion(
        name="Subnet Configuration: MapPublicIpOnLaunch",
        type="subnet_attribute",
        params={"subnet_id": "", "attribute": "MapPublicIpOnLaunch"},
        expected=True,
        finding_id=7,
        reason="The finding names the subnet attribute MapPublicIpOnLaunch.",
        missing=("subnet_id",),
    )


# --- variants: case, emoji, markdown, quotes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        # subnet attributes, however the value is written
        (F("Subnet", "MapPublicIpOnLaunch: true"), [("subnet_attribute", "MapPublicIpOnLaunch", True)]),
        (F("Subnet", '"MapPublicIpOnLaunch": false'), [("subnet_attribute", "MapPublicIpOnLaunch", False)]),
        (F("✅ **Subnet**", "**`mappubliciponlaunch`** = `TRUE`"), [("subnet_attribute", "MapPublicIpOnLaunch", True)]),
        (F("Subnet", "map_public_ip_on_launch is enabled"), [("subnet_attribute", "MapPublicIpOnLaunch", True)]),
        (
            F("Subnet", "`AssignIpv6AddressOnCreation: False`"),
            [("subnet_attribute", "AssignIpv6AddressOnCreation", False)],
        ),
        (F("Subnet", "EnableDns64: true"), [("subnet_attribute", "EnableDns64", True)]),
        # VPC attributes: one suggestion each; prose counts
        (F("VPC DNS", "`enableDnsSupport: true`"), [("vpc_attribute", "enableDnsSupport", True)]),
        (
            F("VPC DNS Configuration", "Hostnames and support enabled"),
            [("vpc_attribute", "enableDnsHostnames", True), ("vpc_attribute", "enableDnsSupport", True)],
        ),
        (
            F("🔍 VPC DNS", "“enableDnsHostnames”: “false”, enableDnsSupport: true"),
            [("vpc_attribute", "enableDnsHostnames", False), ("vpc_attribute", "enableDnsSupport", True)],
        ),
        # the route to the internet
        (
            F("Route Tables", "Internet gateway routes present and subnet associated"),
            [("subnet_internet_route", None, True)],
        ),
        (
            F("ROUTE TABLE ASSOCIATION", "Fixed subnet association with main route table"),
            [("subnet_internet_route", None, True)],
        ),
        (F("Routing", "0.0.0.0/0 → igw-0abc1234 active"), [("subnet_internet_route", None, True)]),
        (F("Private subnet", "no route to the internet (expected)"), [("subnet_internet_route", None, False)]),
        # the ECS service's network configuration
        (F("ECS Service", 'assignPublicIp: "ENABLED"'), [("ecs_service_network", "assignPublicIp", "ENABLED")]),
        (F("ECS Service", "`assignPublicIp: 'disabled'`"), [("ecs_service_network", "assignPublicIp", "DISABLED")]),
        (F("ECS Service", "AssignPublicIp = true"), [("ecs_service_network", "assignPublicIp", "ENABLED")]),
        # security groups and ports
        (F("Security Groups", "Port 5000 access configured correctly"), [("security_group_ingress", 5000, True)]),
        (F("sg-0123456789abcdef0", "tcp/443 blocked"), [("security_group_ingress", 443, False)]),
        # images, health, URLs
        (F("ECR Deployment", "image tag: v12 pushed"), [("ecr_image_tag", "v12", True)]),
        (
            F("Image", "`123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-service:v12` is in ECR"),
            [("ecr_image_tag", "v12", True)],
        ),
        (
            F("Health check", "https://ml.example.com/health returns 200"),
            [("http_endpoint", "https://ml.example.com/health", True)],
        ),
        (
            F("Endpoint", "[docs](http://10.0.1.5:5000/v2/health/ready)."),
            [("http_endpoint", "http://10.0.1.5:5000/v2/health/ready", True)],
        ),
        (F("Health Status", "Enhanced ML service running and healthy"), [("http_endpoint", None, True)]),
    ],
)
def test_it_recognises_the_finding(finding, expected):
    def key(s: Suggestion):
        p = s.params
        return p.get("attribute") or p.get("field") or p.get("port") or p.get("url") or p.get("tag") or None

    assert [(s.type, key(s), s.expected) for s in suggestions_for(finding)] == expected


# --- which value to expect ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        # a correct finding's observed value is the expected one
        (F("Subnet", "MapPublicIpOnLaunch: False", verdict="correct"), False),
        # a wrong finding's true / false is turned around
        (F("Subnet", "MapPublicIpOnLaunch: False", verdict="wrong"), True),
        # the finding's own expected value wins over the verdict
        (F("Subnet", "MapPublicIpOnLaunch: False", expected="true", verdict="wrong"), True),
        (F("Subnet", "MapPublicIpOnLaunch: True", expected="MapPublicIpOnLaunch: false", verdict="wrong"), False),
        # a warning leaves the choice to the user
        (F("Subnet", "MapPublicIpOnLaunch: True", verdict="warning"), None),
    ],
)
def test_it_takes_the_expected_value_from_the_finding_and_its_verdict(finding, expected):
    [suggestion] = suggestions_for(finding)

    assert suggestion.expected == expected
    assert ("expected" in suggestion.missing) == (expected is None)


def test_a_wrong_public_ip_setting_expects_the_other_one():
    [suggestion] = suggestions_for(F("ECS Service", "assignPublicIp: DISABLED", verdict="wrong"))

    assert suggestion.expected == "ENABLED"


def test_it_fills_in_the_resource_ids_the_finding_names():
    finding = F("Subnets", "MapPublicIpOnLaunch: True on subnet-0a1b2c3d4e5f60718 and subnet-0123456789abcdef0")

    assert [(s.params["subnet_id"], s.missing) for s in suggestions_for(finding)] == [
        ("subnet-0a1b2c3d4e5f60718", ()),
        ("subnet-0123456789abcdef0", ()),
    ]


def test_it_reads_the_cluster_and_service_from_a_service_arn():
    arn = "arn:aws:ecs:us-east-1:123456789012:service/snail-cluster/enhanced-ml"

    [suggestion] = suggestions_for(F("ECS Service", f"{arn}: assignPublicIp ENABLED"))

    assert suggestion.params == {"cluster": "snail-cluster", "service": "enhanced-ml", "field": "assignPublicIp"}
    assert suggestion.missing == ()


def test_a_security_group_source_and_protocol_are_kept():
    [suggestion] = suggestions_for(F("Security group sg-0123456789abcdef0", "udp port 53 open to 10.0.0.0/16"))

    assert suggestion.params == {
        "group_id": "sg-0123456789abcdef0",
        "port": 53,
        "protocol": "udp",
        "source": "10.0.0.0/16",
    }


def test_a_task_definition_revision_is_an_ecs_steady_check():
    [suggestion] = suggestions_for(F("ECS Service Update", "Service updated to Task Definition 12"))

    assert (suggestion.type, suggestion.params["revision"]) == ("ecs_service_steady", 12)


def test_names_stay_within_a_checks_name_length():
    [suggestion] = suggestions_for(F("S" * 300, "MapPublicIpOnLaunch: True"))

    assert len(suggestion.name) == 200


# --- negatives ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "finding",
    [
        F("Root Cause", "Issue deeper than standard VPC configuration", verdict="wrong"),
        F("Network Configuration", "Public IP assignment not working despite complete VPC configuration"),
        F("Security Configuration", "Proper port access and security groups"),  # no port number
        F("Documentation", "Update all Snail Trail logs with findings"),
        F("", ""),
        F("Mapping", "MapPublicIpOnLaunchX: true"),  # not the attribute's name
        F("Budget", "The image of the team is good"),
    ],
)
def test_it_offers_nothing_for_a_finding_it_does_not_recognise(finding):
    assert suggestions_for(finding) == []


def test_plain_drops_emoji_code_and_bold_marks():
    assert plain("✅ **ECS Service**: `assignPublicIp: “ENABLED”`") == 'ECS Service: assignPublicIp: "ENABLED"'
