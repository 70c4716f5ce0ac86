"""ops.redact: what a public link's live checks hide, and what they keep so a message still reads."""

from __future__ import annotations

import pytest

from ops.redact import ACCOUNT, ADDRESS, redact, redact_value


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "The task's ENI eni-0a1b2c3d4e5f67890 has no public IP (private 10.0.1.23 only).",
            f"The task's ENI eni-… has no public IP (private {ADDRESS} only).",
        ),
        ("eni-0a1b2c3d and eni-attach-0123456789abcdef0", "eni-… and eni-attach-…"),
        (
            "The PRIMARY deployment ecs-svc/1234567890123456789 still runs with assignPublicIp DISABLED",
            "The PRIMARY deployment ecs-svc/… still runs with assignPublicIp DISABLED",
        ),
        ("CodeDeploy deployment d-ABCDEFGH1 failed", "CodeDeploy deployment d-… failed"),
        (
            "arn:aws:ecs:us-east-1:123456789012:service/snail-trail/enhanced-ml-service",
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/snail-trail/enhanced-ml-service",
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/enhanced-ml-service:v12",
            f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/enhanced-ml-service:v12",
        ),
        (
            "0.0.0.0/0 -> igw-12345678 in rtb-0123456789abcdef0 for subnet-0abc1234 of vpc-1a2b3c4d, sg-0123abcd",
            "0.0.0.0/0 -> igw-… in rtb-… for subnet-… of vpc-…, sg-…",
        ),
        ("acl-1234abcd, nat-0123456789abcdef0, i-0123456789abcdef0", "acl-…, nat-…, i-…"),
        ("http://54.12.3.4:5000/health answered 500", f"http://{ADDRESS}:5000/health answered 500"),
        ("VPC 10.0.0.0/16, at 10.0.1.5.", f"VPC {ADDRESS}, at {ADDRESS}."),
        ("ip-10-0-1-5.ec2.internal", f"ip-{ADDRESS}.ec2.internal"),
        ("ec2-54-1-2-3.compute-1.amazonaws.com", f"ec2-{ADDRESS}.compute-1.amazonaws.com"),
        ("fe80::1ff:fe23:4567:890a and 2001:db8::/32", f"{ADDRESS} and {ADDRESS}"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", ADDRESS),
        ("MAC 0a:1b:2c:3d:4e:5f", f"MAC {ADDRESS}"),
        ("from anywhere: 0.0.0.0/0 and ::/0", "from anywhere: 0.0.0.0/0 and ::/0"),
    ],
)
def test_identifiers_become_placeholders(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Revision 12 of enhanced-ml-service on port 5000 in us-east-1 took 1234 ms",
        "DEPLOYMENT_NETWORK_CONFIG_STALE: checked at 12:34:56 on 2026-12-06",
        "cluster snail-trail, service enhanced-ml-service, image tag v12",
        "a 13-digit 1234567890123 and an 11-digit 12345678901 are not account ids",
        "version 1.2.3 and subnet-xyz (not an id)",
        "",
    ],
)
def test_what_people_named_and_numbers_that_are_no_identifier_stay(text):
    assert redact(text) == text


def test_json_values_are_redacted_keys_and_all():
    value = {
        "NetworkInterfaces[?NetworkInterfaceId=='eni-0a1b2c3d']": [],
        "PrivateIpAddress": "10.0.1.23",
        "Owner": 123456789012,
        "port": 5000,
        "public": False,
        "ids": ["subnet-0abc1234", None, 1.5],
    }

    assert redact_value(value) == {
        "NetworkInterfaces[?NetworkInterfaceId=='eni-…']": [],
        "PrivateIpAddress": ADDRESS,
        "Owner": ACCOUNT,
        "port": 5000,
        "public": False,
        "ids": ["subnet-…", None, 1.5],
    }
