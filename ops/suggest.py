"""Checks to offer for a finding of an investigation: "Subnet Configuration: `MapPublicIpOnLaunch: True`
(correct)" is a subnet_attribute check waiting for its subnet id.

Pure functions over the finding's text (no database, no AWS): the subject and observed value name
what was looked at, the stated value (or the finding's own expected value) is what the check should
expect. Text is read as people write it in a tracker: any case, emoji, backticks, quotes and bold.

Which value to expect: a finding's explicit expected value wins; else a correct finding's observed
value is the expected one; a wrong finding's true/false (or ENABLED/DISABLED) is turned around; a
warning leaves the choice to the user. What the text does not say (the subnet id, the cluster) is
left empty in `params` and named in `missing`, so the form shows what is still to fill in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

MAX_NAME = 200  # Check.name


class FindingLike(Protocol):
    subject: str
    observed: str


@dataclass(frozen=True)
class Suggestion:
    """A check to offer for a finding: what the add form is prefilled with, and why."""

    name: str
    type: str
    params: dict[str, Any]
    expected: Any
    finding_id: int | None
    reason: str
    # What the user must still fill in: parameter names left empty in `params`, and "expected"
    # when the finding does not say which value is right.
    missing: tuple[str, ...] = field(default=())


# --- reading the text -----------------------------------------------------------------------------

# Pictographs, dingbats (✅ ❌ ⚠️ 🔍), variation selectors and joiners: decoration, never meaning.
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
_MARKUP = re.compile(r"\*\*|__|[`*]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def plain(text: str) -> str:
    """The words of a line of markdown: no emoji, code or bold marks, curly quotes made straight."""
    text = _EMOJI.sub(" ", (text or "").translate(_QUOTES))
    return " ".join(_MARKUP.sub("", text).split())


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)


def _name_pattern(name: str) -> str:
    """`MapPublicIpOnLaunch` also as `map public ip on launch` or `map_public_ip_on_launch`."""
    return r"(?<![A-Za-z0-9])" + r"[\s_-]?".join(map(re.escape, _words(name))) + r"(?![A-Za-z0-9])"


# After a name: `: value`, `= value`, `"name": value`, `is value`, `set to value`, `-> value`.
_VALUE = r"""["']?\s*(?:[:=]|->|→|\bis\b|\bwas\b|\bset\s+to\b)?\s*["']?(?P<value>[\w.-]+)"""

_TRUE = {"true", "yes", "on", "enabled", "enable", "1"}
_FALSE = {"false", "no", "off", "disabled", "disable", "0"}
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|none|missing|absent|without|lacks?|disabled|false|off|blocked|closed|denied|"
    r"fails?|failing|broken|unhealthy|isn't|aren't|doesn't|don't|can't|cannot)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(?:true|yes|on|enabled|present|exists?|configured|allowed|allows?|open|set|associated|correct|"
    r"works?|working|healthy|reachable|attached|active)\b",
    re.IGNORECASE,
)


def _stated(text: str, name: str) -> str | None:
    """The value written right after `name` in `text`, if any."""
    match = re.search(_name_pattern(name) + _VALUE, text, re.IGNORECASE)
    return match.group("value") if match else None


def _as_bool(word: str | None) -> bool | None:
    if word is None:
        return None
    word = word.lower()
    return True if word in _TRUE else False if word in _FALSE else None


def _polarity(text: str) -> bool | None:
    """Whether prose says a thing is so ("routes present") or not ("no route", "not enabled")."""
    if _NEGATIVE.search(text):
        return False
    if _POSITIVE.search(text):
        return True
    return None


@dataclass
class _Text:
    """A finding read once: its words, and how to turn what it states into what a check expects."""

    subject: str
    observed: str
    expected: str
    verdict: str

    @property
    def all(self) -> str:
        return f"{self.subject} {self.observed} {self.expected}"

    @property
    def about(self) -> str:
        """What the finding looked at and saw (its stated expectation aside)."""
        return f"{self.subject} {self.observed}"

    def expect(self, read: Callable[[str], Any], turn: Callable[[Any], Any] | None = None) -> Any:
        """`read` a value from the expected text if the finding gives one, else from what it observed,
        and decide by the verdict; None when the text does not settle it."""
        if self.expected:
            return read(self.expected)
        seen = read(self.observed)
        if seen is None:
            return None
        if self.verdict == "correct":
            return seen
        if self.verdict == "wrong" and turn is not None:
            return turn(seen)
        return None

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        """The true/false a check of `name` should expect (stated after the name, or else in prose)."""

        def read(text: str) -> bool | None:
            stated = _as_bool(_stated(text, name))
            return stated if stated is not None else _polarity(text)

        value = self.expect(read, turn=lambda seen: not seen)
        if value is None and self.verdict != "warning":
            return default
        return value

    def polarity(self, default: bool | None = True) -> bool | None:
        value = self.expect(_polarity, turn=lambda seen: not seen)
        if value is None and self.verdict != "warning":
            return default
        return value


def _read(finding: Any) -> _Text:
    return _Text(
        subject=plain(getattr(finding, "subject", "") or ""),
        observed=plain(getattr(finding, "observed", "") or ""),
        expected=plain(getattr(finding, "expected", "") or ""),
        verdict=(getattr(finding, "verdict", "") or "correct").lower(),
    )


# --- resource ids named in the text ---------------------------------------------------------------

_SUBNET = re.compile(r"\bsubnet-[0-9a-f]{8,17}\b")
_VPC = re.compile(r"\bvpc-[0-9a-f]{8,17}\b")
_GROUP = re.compile(r"\bsg-[0-9a-f]{8,17}\b")
_ECS_SERVICE_ARN = re.compile(r"arn:aws[\w-]*:ecs:[\w-]+:\d{12}:service/(?P<cluster>[\w-]+)/(?P<service>[\w-]+)")
_ECR_IMAGE = re.compile(
    r"\b\d{12}\.dkr\.ecr\.[\w-]+\.amazonaws\.com(?:\.cn)?/(?P<repository>[a-z0-9][a-z0-9._/-]*):(?P<tag>[\w][\w.-]*)"
)
_TAG = re.compile(r"\btag\s*[:=]\s*[\"']?(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})", re.IGNORECASE)
_NAMED_IMAGE = re.compile(r"\bimage\s*[:=]?\s*[\"']?(?P<repository>[a-z0-9][a-z0-9._/-]*):(?P<tag>[\w][\w.-]*)", re.I)
_TARGET_GROUP = re.compile(r"arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup/[\w-]+/[0-9a-f]+")
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.IGNORECASE)
_CIDR = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b")
_PORT = re.compile(r"\bport\s*[:=#]?\s*(?P<port>\d{1,5})\b|\b(?:tcp|udp)\s*/\s*(?P<slashed>\d{1,5})\b", re.I)
_STATUS = re.compile(
    r"\b(?:status|http|returns?|answers?|responds?(?:\s+with)?)\s*[:=]?\s*(?P<status>[1-5]\d\d)\b", re.I
)
_REVISION = re.compile(
    r"\b(?:task\s+definition|revision|task\s+def)\s*(?:revision\s*)?[:#=]?\s*(?P<revision>\d{1,7})\b", re.I
)


def _unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _each(ids: list[str]) -> list[str]:
    """One suggestion per id the finding names, or one with the id left to fill in."""
    return ids or [""]


# --- the rules ------------------------------------------------------------------------------------

# Boolean attributes of describe_subnets' Subnet, as the subnet_attribute type names them.
SUBNET_ATTRIBUTES = {
    "MapPublicIpOnLaunch": "MapPublicIpOnLaunch",
    "MapCustomerOwnedIpOnLaunch": "MapCustomerOwnedIpOnLaunch",
    "AssignIpv6AddressOnCreation": "AssignIpv6AddressOnCreation",
    "EnableDns64": "EnableDns64",
    "Ipv6Native": "Ipv6Native",
    "DefaultForAz": "DefaultForAz",
    "EnableResourceNameDnsARecord": "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord",
    "EnableResourceNameDnsAAAARecord": "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord",
}
VPC_ATTRIBUTES = ("enableDnsHostnames", "enableDnsSupport", "enableNetworkAddressUsageMetrics")


class _Builder:
    """Collects the suggestions for one finding."""

    def __init__(self, finding: Any, text: _Text):
        self.text = text
        self.finding_id = getattr(finding, "pk", None) or getattr(finding, "id", None)
        self.label = text.subject or "Finding"
        self.found: list[Suggestion] = []

    def add(self, kind: str, what: str, params: dict[str, Any], expected: Any, reason: str) -> None:
        missing = [name for name, value in params.items() if value in ("", None)]
        if expected is None:
            missing.append("expected")
        name = f"{self.label}: {what}" if what.lower() not in self.label.lower() else self.label
        self.found.append(
            Suggestion(
                name=name[:MAX_NAME],
                type=kind,
                params=params,
                expected=expected,
                finding_id=self.finding_id,
                reason=reason,
                missing=tuple(missing),
            )
        )


def _subnet_attributes(b: _Builder) -> None:
    for spoken, attribute in SUBNET_ATTRIBUTES.items():
        if not re.search(_name_pattern(spoken), b.text.all, re.IGNORECASE):
            continue
        expected = b.text.flag(spoken)
        for subnet_id in _each(_unique(_SUBNET.findall(b.text.all))):
            b.add(
                "subnet_attribute",
                f"{spoken}{f' on {subnet_id}' if subnet_id else ''}",
                {"subnet_id": subnet_id, "attribute": attribute},
                expected,
                f"The finding names the subnet attribute {spoken}.",
            )


_DNS = re.compile(r"\bdns\b", re.IGNORECASE)
_PROSE_VPC = {
    "enableDnsHostnames": re.compile(r"\bhost\s*names?\b", re.IGNORECASE),
    "enableDnsSupport": re.compile(r"\b(?:support|resolution)\b", re.IGNORECASE),
}


def _vpc_attributes(b: _Builder) -> None:
    text = b.text.all
    named = [name for name in VPC_ATTRIBUTES if re.search(_name_pattern(name), text, re.IGNORECASE)]
    if not named and _DNS.search(text):  # "VPC DNS: hostnames and support enabled"
        named = [name for name, words in _PROSE_VPC.items() if words.search(text)]
    for attribute in named:
        expected = b.text.flag(attribute)
        for vpc_id in _each(_unique(_VPC.findall(text))):
            b.add(
                "vpc_attribute",
                attribute,
                {"vpc_id": vpc_id, "attribute": attribute},
                expected,
                f"The finding names the VPC attribute {attribute}.",
            )


_ROUTES = re.compile(
    r"\broute[\s-]*tables?\b|\binternet[\s-]*gateways?\b|\bigw-|\b0\.0\.0\.0/0\b|\broutes?\s+to\s+the\s+internet\b|"
    r"\binternet\s+routes?\b",
    re.IGNORECASE,
)


def _internet_route(b: _Builder) -> None:
    if not _ROUTES.search(b.text.all):
        return
    expected = b.text.polarity(default=True)
    for subnet_id in _each(_unique(_SUBNET.findall(b.text.all))):
        b.add(
            "subnet_internet_route",
            "route to the internet" + (f" from {subnet_id}" if subnet_id else ""),
            {"subnet_id": subnet_id},
            expected,
            "The finding is about route tables or the internet gateway.",
        )


def _public_ip(seen: str | None) -> str | None:
    if seen is None:
        return None
    if seen.upper() in ("ENABLED", "DISABLED"):
        return seen.upper()
    flag = _as_bool(seen)
    return None if flag is None else "ENABLED" if flag else "DISABLED"


def _ecs_network(b: _Builder) -> None:
    if not re.search(_name_pattern("assignPublicIp"), b.text.all, re.IGNORECASE):
        return
    expected = b.text.expect(
        lambda text: _public_ip(_stated(text, "assignPublicIp")),
        turn=lambda seen: "DISABLED" if seen == "ENABLED" else "ENABLED",
    )
    services = [m.groupdict() for m in _ECS_SERVICE_ARN.finditer(b.text.all)] or [{"cluster": "", "service": ""}]
    for named in services:
        b.add(
            "ecs_service_network",
            "assignPublicIp",
            {"cluster": named["cluster"], "service": named["service"], "field": "assignPublicIp"},
            expected,
            "The finding names the ECS service's assignPublicIp.",
        )


_SECURITY_GROUP = re.compile(r"\bsecurity[\s-]*groups?\b|\bsg-[0-9a-f]", re.IGNORECASE)
_NACL = re.compile(r"\bnetwork\s+acls?\b|\bnacls?\b", re.IGNORECASE)


def _ports(text: str) -> list[int]:
    found = [int(m.group("port") or m.group("slashed")) for m in _PORT.finditer(text)]
    return _unique(port for port in found if port <= 65535)


def _firewalls(b: _Builder) -> None:
    text = b.text.all
    ports = _ports(text)
    if not ports:
        return
    protocol = "udp" if re.search(r"\budp\b", text, re.IGNORECASE) else "tcp"
    expected = b.text.polarity(default=True)
    cidrs = _unique(_CIDR.findall(text))
    if _SECURITY_GROUP.search(text):
        for group_id in _each(_unique(_GROUP.findall(text))):
            for port in ports:
                params: dict[str, Any] = {"group_id": group_id, "port": port, "protocol": protocol}
                if cidrs:
                    params["source"] = cidrs[0]
                b.add(
                    "security_group_ingress",
                    f"port {port} open" + (f" on {group_id}" if group_id else ""),
                    params,
                    expected,
                    f"The finding is about a security group and port {port}.",
                )
    if _NACL.search(text):
        for subnet_id in _each(_unique(_SUBNET.findall(text))):
            for port in ports:
                params = {"subnet_id": subnet_id, "port": port, "protocol": protocol}
                if cidrs:
                    params["cidr"] = cidrs[0]
                b.add(
                    "nacl_allows_port",
                    f"network ACL allows port {port}",
                    params,
                    expected,
                    f"The finding is about a network ACL and port {port}.",
                )


_IMAGE = re.compile(r"\becr\b|\bimage[\s-]*tags?\b|\.dkr\.ecr\.", re.IGNORECASE)


def _image_tag(b: _Builder) -> None:
    text = b.text.all
    if not _IMAGE.search(text):
        return
    images = [m.groupdict() for m in _ECR_IMAGE.finditer(text)] or [m.groupdict() for m in _NAMED_IMAGE.finditer(text)]
    if not images:
        tag = _TAG.search(text)
        images = [{"repository": "", "tag": tag.group("tag") if tag else ""}]
    for image in _unique_dicts(images):
        b.add(
            "ecr_image_tag",
            "image tag in ECR" + (f" ({image['repository']}:{image['tag']})" if image["repository"] else ""),
            {"repository": image["repository"], "tag": image["tag"]},
            True,
            "The finding is about a container image in ECR.",
        )


def _unique_dicts(items: list[dict[str, str]]) -> list[dict[str, str]]:
    return list({tuple(sorted(item.items())): item for item in items}.values())


_ELB = re.compile(r"\btarget[\s-]*(?:groups?|health)\b|\b(?:elb|alb|nlb)\b|\bload[\s-]*balancers?\b", re.I)
_HEALTH = re.compile(r"\bhealth", re.IGNORECASE)


def _endpoints(b: _Builder) -> None:
    text = b.text.all
    urls = _unique(url.rstrip(".,;:!?") for url in _URL.findall(b.text.about + " " + b.text.expected))
    if _ELB.search(text):
        arns = _unique(_TARGET_GROUP.findall(text))
        for arn in _each(arns):
            b.add(
                "elb_target_health",
                "load balancer targets healthy",
                {"target_group_arn": arn},
                "healthy",
                "The finding is about a load balancer's targets.",
            )
        if not urls:
            return
    if not urls and not _HEALTH.search(text):
        return
    status = _STATUS.search(text)
    for url in _each(urls):
        params: dict[str, Any] = {"url": url}
        if status:
            params["expected_status"] = int(status.group("status"))
        b.add(
            "http_endpoint",
            f"{url} answers" if url else "endpoint answers",
            params,
            True,
            "The finding names a URL." if url else "The finding is about a health endpoint.",
        )


def _steady(b: _Builder) -> None:
    revision = _REVISION.search(b.text.all)
    if not revision:
        return
    arns = [m.groupdict() for m in _ECS_SERVICE_ARN.finditer(b.text.all)] or [{"cluster": "", "service": ""}]
    for named in arns:
        b.add(
            "ecs_service_steady",
            f"running task definition revision {revision.group('revision')}",
            {"cluster": named["cluster"], "service": named["service"], "revision": int(revision.group("revision"))},
            True,
            "The finding names a task definition revision.",
        )


def suggestions_for(finding: FindingLike) -> list[Suggestion]:
    """The checks that would keep this finding true; [] when its subject matches no known type."""
    text = _read(finding)
    builder = _Builder(finding, text)
    _subnet_attributes(builder)
    _vpc_attributes(builder)
    _internet_route(builder)
    _ecs_network(builder)
    _firewalls(builder)
    _image_tag(builder)
    _steady(builder)
    _endpoints(builder)
    return builder.found
