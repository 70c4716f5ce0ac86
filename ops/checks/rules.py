"""What the check types share: reading a check's parameters and expected value with field-level
messages, making an AWS answer safe to store (JSON), recording paginated calls, and the network
rules (NACL entries, security group permissions) as pure functions.

Free of the database, and the rules of any AWS call, so each can be tested on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    pass

_MISSING = object()


class Params:
    """Read a check's parameters one by one, collecting every problem before raising.

    Unknown parameters are refused, not dropped: a misspelt `protocl` silently ignored would make
    a check that looks right and tests something else. Messages name the parameter ("port: ..."),
    all of them at once under the "params" key.
    """

    def __init__(self, params: Any, allowed: Iterable[str]):
        self.allowed = list(allowed)
        self.errors: list[str] = []
        self.cleaned: dict[str, Any] = {}
        if not isinstance(params, dict):
            raise ValidationError({"params": "Parameters must be an object of names and values."})
        self.raw = params
        unknown = sorted(set(params) - set(self.allowed))
        if unknown:
            self.errors.append(
                f"Unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"this type takes {', '.join(self.allowed)}."
            )

    def _get(self, name: str, required: bool, default: Any) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                self.errors.append(f"{name}: this parameter is required.")
            elif default is not None:
                self.cleaned[name] = default
            return _MISSING
        return value

    def fail(self, name: str, message: str) -> None:
        self.errors.append(f"{name}: {message}")

    def text(
        self,
        name: str,
        *,
        required: bool = True,
        default: str | None = None,
        pattern: str | None = None,
        hint: str = "",
        choices: Iterable[str] | None = None,
        max_length: int = 1024,
    ) -> str | None:
        value = self._get(name, required, default)
        if value is _MISSING:
            return self.cleaned.get(name)
        if not isinstance(value, str):
            self.fail(name, "must be text.")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.fail(name, f"at most {max_length} characters.")
            return None
        if choices is not None:
            choices = list(choices)
            # Accept any case, store the spelling AWS uses.
            match = next((choice for choice in choices if choice.lower() == value.lower()), None)
            if match is None:
                self.fail(name, f"must be one of {', '.join(choices)} (got {value!r}).")
                return None
            value = match
        if pattern is not None and not re.fullmatch(pattern, value):
            self.fail(name, f"{value!r} is not {hint or 'valid'}.")
            return None
        self.cleaned[name] = value
        return value

    def integer(
        self, name: str, *, required: bool = True, default: int | None = None, minimum: int, maximum: int
    ) -> int | None:
        value = self._get(name, required, default)
        if value is _MISSING:
            return self.cleaned.get(name)
        if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be a whole number from {minimum} to {maximum}.")
            return None
        if not minimum <= value <= maximum:
            self.fail(name, f"must be from {minimum} to {maximum} (got {value}).")
            return None
        self.cleaned[name] = value
        return value

    def number(
        self, name: str, *, required: bool = True, default: float | None = None, minimum: float, maximum: float
    ) -> float | None:
        value = self._get(name, required, default)
        if value is _MISSING:
            return self.cleaned.get(name)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.fail(name, f"must be a number of seconds from {minimum:g} to {maximum:g}.")
            return None
        if not minimum < value <= maximum:
            self.fail(name, f"must be more than {minimum:g} and at most {maximum:g} (got {value:g}).")
            return None
        self.cleaned[name] = value
        return value

    def network(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        """A CIDR block (IPv4 or IPv6); a bare address means that one host (/32, /128)."""
        value = self.text(name, required=required, default=default, max_length=64)
        if value is None:
            return None
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            self.fail(name, f"{value!r} is not a CIDR block such as 0.0.0.0/0 ({error}).")
            self.cleaned.pop(name, None)
            return None
        self.cleaned[name] = str(network)
        return str(network)

    def mapping(self, name: str, *, required: bool = True) -> dict[str, Any] | None:
        value = self._get(name, required, None)
        if value is _MISSING:
            self.cleaned[name] = {}
            return {}
        if not isinstance(value, dict):
            self.fail(name, "must be an object of names and values.")
            return None
        self.cleaned[name] = value
        return value

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationError({"params": self.errors})
        return self.cleaned


# Patterns of AWS resource ids, so a typo is caught when the check is saved, not on its first run.
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
VPC_ID = r"vpc-[0-9a-f]{8,17}"
GROUP_ID = r"sg-[0-9a-f]{8,17}"
PROTOCOLS = ("tcp", "udp")


def expected_bool(expected: Any, *, default: bool | None = None) -> bool:
    """true / false (also the strings, as a form sends them); empty means `default` when there is one."""
    if expected is None or expected == "":
        if default is None:
            raise ValidationError({"expected": "Say what is expected: true or false."})
        return default
    if isinstance(expected, bool):
        return expected
    if isinstance(expected, str) and expected.strip().lower() in ("true", "false"):
        return expected.strip().lower() == "true"
    raise ValidationError({"expected": f"Expected true or false, not {expected!r}."})


def expected_true(expected: Any, what: str) -> bool:
    """For types whose verdict is one fixed question ("is it steady?"): empty or true only."""
    if expected in (None, "", True) or (isinstance(expected, str) and expected.strip().lower() == "true"):
        return True
    raise ValidationError({"expected": f"This check passes when {what}; leave the expected value empty or true."})


def jsonable(value: Any) -> Any:
    """An AWS answer as JSON can hold it: timestamps as ISO 8601, decimals as numbers, bytes as base64."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


# --- network rules ---------------------------------------------------------------------------------
# AWS answers in, decisions out; no calls. ops.diagnosis has the same rules for its fixed question
# (TCP from anywhere: `nacl_decision`, `_permission_opens`); these generalise them to any protocol
# and peer CIDR, which the checks' parameters need. To be folded into one place.

_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1"}


def _protocol_matches(rule_protocol: str | None, protocol: str) -> bool:
    rule_protocol = str(rule_protocol).lower()
    return rule_protocol in ("-1", "all", protocol) or rule_protocol == _PROTOCOL_NUMBERS.get(protocol)


def _contains(rule_cidr: str | None, peer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if not rule_cidr:
        return False
    rule = ipaddress.ip_network(rule_cidr, strict=False)
    return rule.version == peer.version and peer.subnet_of(rule)


def nacl_decision(
    entries: list[dict[str, Any]], *, egress: bool, port: int, protocol: str = "tcp", cidr: str = "0.0.0.0/0"
) -> tuple[int | None, dict[str, Any] | None]:
    """(index, entry) of the entry that decides traffic on `port` to or from the whole of `cidr`;
    (None, None) is the implicit deny (the `*` rule). Allowed when the entry's RuleAction is allow.

    NACLs are stateless and ordered: the lowest-numbered entry of that direction whose protocol,
    port range and CIDR cover the traffic decides. An entry whose CIDR covers only part of `cidr`
    (a narrower allow or deny) does not decide for all of it and is skipped, as in ops.diagnosis.
    """
    peer = ipaddress.ip_network(cidr, strict=False)
    for index, entry in sorted(enumerate(entries), key=lambda pair: pair[1].get("RuleNumber", 32767)):
        if bool(entry.get("Egress")) != egress or not _protocol_matches(entry.get("Protocol"), protocol):
            continue
        ports = entry.get("PortRange")
        if str(entry.get("Protocol")) != "-1" and ports and not ports.get("From", 0) <= port <= ports.get("To", 65535):
            continue
        if not _contains(entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"), peer):
            continue
        return index, entry
    return None, None


def sg_ingress_match(
    permissions: list[dict[str, Any]], *, port: int, protocol: str, source: str = "0.0.0.0/0"
) -> tuple[dict[str, Any] | None, list[str]]:
    """The first ingress permission (with only its matching range) letting `source` in on `port`,
    or None; and notes on sources that could not be judged (prefix lists, other security groups),
    which count as no match. Security groups only allow, so any matching permission decides."""
    peer = ipaddress.ip_network(source, strict=False)
    notes: list[str] = []
    for permission in permissions:
        if not _protocol_matches(permission.get("IpProtocol"), protocol):
            continue
        if str(permission.get("IpProtocol")) not in ("-1", "all"):
            low, high = permission.get("FromPort"), permission.get("ToPort")
            if low is None or high is None or not (low <= port <= high or low == -1):
                continue
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for ip_range in permission.get(key) or []:
                if _contains(ip_range.get(field), peer):
                    rule = {k: v for k, v in permission.items() if k in ("IpProtocol", "FromPort", "ToPort")}
                    return {**rule, key: [ip_range]}, notes
        for prefix_list in permission.get("PrefixListIds") or []:
            notes.append(f"prefix list {prefix_list.get('PrefixListId')} is a source not resolved here: no match")
        for pair in permission.get("UserIdGroupPairs") or []:
            notes.append(f"security group {pair.get('GroupId')} as a source is not a CIDR: no match")
    return None, notes
