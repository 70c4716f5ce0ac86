"""Infrastructure identifiers taken out of text a public link shows.

A public link is for stakeholders, and whoever it is forwarded to reads it too: ENI and other
resource ids, IP addresses, deployment ids and account ids are a map of the infrastructure they
have no use for. `redact` replaces each with a placeholder that still reads ("eni-…",
"(address hidden)"), so a message such as "The task's ENI eni-… has no public IP (private
(address hidden) only)." keeps its meaning. `redact_value` does the same inside JSON values
(observed values, evidence: keys too, since evidence keys quote ids).

What is hidden, and why:
- ENI ids and the other EC2-style resource ids (subnet-, vpc-, sg-, igw-, rtb-, acl-, nat-, i-,
  vpce-, eipalloc-...): the same kind of name as an ENI id; together they draw the network. One
  rule for all of them fails safe where a list of "sensitive" ones would not.
- IPv4 and IPv6 addresses and CIDR blocks, private and public, and the EC2 host names that spell
  one (ip-10-0-1-5, ec2-54-1-2-3), and MAC addresses. Kept: 0.0.0.0/0 and ::/0, which name "the
  internet", not a host.
- ECS deployment ids (ecs-svc/<digits>) and CodeDeploy ones (d-XXXXXXXXX).
- Account ids: any 12-digit number standing alone, so also inside ARNs and ECR image URIs.
Kept: names people chose (clusters, services, repositories, tags), regions, ports, check codes.
"""

from __future__ import annotations

import re
from typing import Any

ADDRESS = "(address hidden)"
ACCOUNT = "(account hidden)"

# EC2-style ids: a known prefix, then 8 or 17 hex digits.
_RESOURCE_PREFIXES = (
    "eni|subnet|vpc|sg|sgr|igw|eigw|rtb|rtbassoc|acl|aclassoc|nat|vpce|eipalloc|eipassoc|i|ami|vol|snap|"
    "tgw|tgw-attach|tgw-rtb|pcx|dopt|cgw|vgw|vpn|lt|pl|fl|elb|eni-attach"
)
_RESOURCE_ID = re.compile(rf"\b({_RESOURCE_PREFIXES})-(?:[0-9a-f]{{17}}|[0-9a-f]{{8}})\b")
_ECS_DEPLOYMENT = re.compile(r"\becs-svc/\d+")
_CODEDEPLOY_DEPLOYMENT = re.compile(r"\bd-[A-Z0-9]{9}\b")
_HOST_NAME = re.compile(r"\b(ip|ec2)-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}\b")
_ACCOUNT_ID = re.compile(r"(?<![\w])\d{12}(?![\w])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w]|\.\d)")
_MAC = re.compile(r"(?<![\w:])[0-9a-f]{2}(?::[0-9a-f]{2}){5}(?![\w:])", re.IGNORECASE)
_H16 = r"[0-9a-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:.])(?:(?:{_H16}:){{7}}{_H16}|(?:{_H16}(?::{_H16})*)?::(?:{_H16}(?::{_H16})*)?)(?:/\d{{1,3}})?(?![\w:])",
    re.IGNORECASE,
)
_ANYWHERE = {"0.0.0.0/0", "::/0", "0.0.0.0"}


def _address(match: re.Match) -> str:
    text = match.group(0)
    if text in _ANYWHERE or text == "::":  # "the internet", and a bare "::" is no address
        return text
    return ADDRESS


def redact(text: str) -> str:
    """`text` with every infrastructure identifier replaced by a placeholder."""
    if not text:
        return text
    text = _ECS_DEPLOYMENT.sub("ecs-svc/…", text)
    text = _CODEDEPLOY_DEPLOYMENT.sub("d-…", text)
    text = _RESOURCE_ID.sub(lambda match: f"{match.group(1)}-…", text)
    text = _HOST_NAME.sub(lambda match: f"{match.group(1)}-{ADDRESS}", text)
    text = _ACCOUNT_ID.sub(ACCOUNT, text)
    text = _MAC.sub(ADDRESS, text)
    text = _IPV4.sub(_address, text)
    return _IPV6.sub(_address, text)


def redact_value(value: Any) -> Any:
    """A JSON value with `redact` applied to every string in it, keys included; a number that is
    an account id becomes the placeholder."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(key)): redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and redact(str(value)) != str(value):
        return ACCOUNT
    return value
