"""HTTP endpoint checks: does a URL answer with the expected status (and text) within a timeout.

Talks to the URL, not to AWS (`needs_aws` False). Loopback is allowed, since checking a service on
this host is legitimate, but link-local addresses never are: 169.254.0.0/16 and fe80::/10 hold the
cloud metadata and task credential endpoints (169.254.169.254, 169.254.170.2), and a check's answer
is shown on pages, so a check pointed there would publish the instance's credentials. The IPv6
metadata endpoint (fd00:ec2::254) is refused for the same reason, although it is unique-local.

The host is resolved and every address it gives is checked before connecting, and the address the
connection really reached is checked again (DNS may answer differently the second time). No proxy
from the environment is used (the checked peer would be the proxy) and redirects are not followed
(a redirect could lead anywhere, including to the metadata service). At most 64 KB of the body is
read, within the same time limit as the rest.

`send` is that guarded request on its own, for the other types that talk to a URL (the ML inference
endpoint check of ops.checks.inference).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from tracker.lib.guarded_http import AddressRefused, guarded_session

from .base import ERROR, FAIL, PASS, CallLog, CheckType, ClientFor, Observation, Target, register
from .rules import Params, expected_true

MAX_BODY_BYTES = 64 * 1024
MAX_TIMEOUT_SECONDS = 30
EXCERPT_CHARS = 300
PARALLEL = 8  # endpoints of one group checked at once, so one slow URL does not hold up the rest
USER_AGENT = "SnailTrail-Checks/1"
_METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254")}


def forbidden(address: str) -> bool:
    """Whether a check may not connect to this address: link-local (v4 or v6, also v4-mapped) or metadata."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0 carries a scope
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip in _METADATA_ADDRESSES


def _peer_rule(address: str) -> str | None:
    return "a link-local address" if forbidden(address) else None


def _session() -> requests.Session:
    return guarded_session(_peer_rule)


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@register
class HttpEndpoint(CheckType):
    """GET a URL: PASS when it answers `expected_status` (and contains `body_contains`) in time.

    The observed value is the status code (None when nothing answered); the evidence holds the
    status, the time to the end of the read, and the start of the body.
    """

    code = "http_endpoint"
    label = "HTTP endpoint answers"
    needs_aws = False
    help = (
        "params: url (http or https), timeout_seconds (up to 30, default 10), expected_status (default 200), "
        "body_contains (optional text the first 64 KB must contain). expected: empty or true. "
        "Redirects are not followed; link-local addresses (169.254.x.x, fe80::) are refused."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["url", "timeout_seconds", "expected_status", "body_contains"])
        url = p.text("url", max_length=2048)
        if url is not None:
            problem = _url_problem(url)
            if problem:
                p.fail("url", problem)
        p.number("timeout_seconds", required=False, default=10, minimum=0, maximum=MAX_TIMEOUT_SECONDS)
        p.integer("expected_status", required=False, default=200, minimum=100, maximum=599)
        p.text("body_contains", required=False, max_length=1000)
        cleaned = p.done()
        return cleaned, expected_true(expected, "the URL answers with the expected status and text")

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        if not targets:
            return {}
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(targets))) as pool:
            return dict(zip((t.id for t in targets), pool.map(_probe_safely, targets), strict=True))


def _probe_safely(target: Target) -> Observation:
    try:
        return probe(**target.params)
    except Exception as error:  # one odd URL must not lose the other checks of the group
        return Observation.error(type(error).__name__, f"GET {target.params.get('url')}: {error}"[:500])


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        return f"not a valid URL ({error})."
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://."
    if not parts.hostname:
        return "has no host name."
    if "@" in parts.netloc:
        # The check's parameters are shown on pages: a password in the URL would be published.
        return "must not contain a user name or password."
    try:
        if forbidden(parts.hostname):
            return f"{parts.hostname} is a link-local address; checks never connect to those."
    except ValueError:
        pass  # a host name: resolved, and its addresses checked, on every run
    return ""


@dataclass(frozen=True)
class Answer:
    """What an endpoint answered: its status and headers, and at most MAX_BODY_BYTES of its body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body went on past MAX_BODY_BYTES
    encoding: str | None
    elapsed_ms: int  # from sending the request to the end of the read

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


def send(
    method: str,
    url: str,
    *,
    evidence: dict[str, Any],
    timeout_seconds: float = 10,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Answer | Observation:
    """One request to `url` with every guard of this module (addresses checked before and after
    connecting, no proxy, no redirect followed, the body read up to MAX_BODY_BYTES within the time
    limit). Returns the Answer, or, when nothing answered, the FAIL / ERROR observation with
    `evidence` (completed with elapsed_ms when a request was sent). Never raises for a network failure.

    Error messages name the host and the exception, never the request's headers: a caller may
    send a credential in them (ops.checks.inference)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    timed_out = f"timed out after {timeout_seconds:g} s"
    try:
        addresses = _resolve(parts.hostname or "", port)
    except (OSError, UnicodeError) as error:
        return Observation(
            FAIL, None, evidence, error_code="NameResolution", message=f"{parts.hostname} does not resolve ({error})."
        )
    if any(forbidden(address) for address in addresses):
        return Observation(
            ERROR,
            None,
            evidence,
            error_code="TargetRefused",
            message=f"{parts.hostname} resolves to a link-local address; checks never connect to those.",
        )
    started = time.monotonic()
    deadline = started + timeout_seconds
    truncated = False
    try:
        with _session() as session:
            response = session.request(
                method,
                url,
                data=data,
                timeout=(timeout_seconds, timeout_seconds),
                allow_redirects=False,
                stream=True,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
            )
            with response:
                body = bytearray()
                for chunk in response.iter_content(chunk_size=8192):
                    body.extend(chunk)
                    if len(body) > MAX_BODY_BYTES:
                        del body[MAX_BODY_BYTES:]
                        truncated = True
                        break
                    if time.monotonic() > deadline:
                        raise requests.Timeout(timed_out)
    except AddressRefused as error:
        return Observation(ERROR, None, evidence, error_code="TargetRefused", message=f"Refused: {error}.")
    except requests.RequestException as error:
        evidence["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        if _timed_out(error):
            return Observation(FAIL, None, evidence, error_code="Timeout", message=f"The endpoint {timed_out}.")
        if isinstance(error, requests.ConnectionError):
            reason = "connection refused" if "refused" in str(error).lower() else f"could not connect ({error})"
            return Observation(
                FAIL, None, evidence, error_code="ConnectionError", message=f"{parts.hostname}:{port}: {reason}"[:500]
            )
        return Observation(FAIL, None, evidence, error_code=type(error).__name__, message=str(error)[:500])
    elapsed_ms = round((time.monotonic() - started) * 1000)
    return Answer(response.status_code, response.headers, bytes(body), truncated, response.encoding, elapsed_ms)


def probe(
    url: str, timeout_seconds: float = 10, expected_status: int = 200, body_contains: str | None = None
) -> Observation:
    """One GET of `url`, judged. Never raises for a network failure: that is the check's answer."""
    evidence: dict[str, Any] = {"url": url}
    answer = send("GET", url, evidence=evidence, timeout_seconds=timeout_seconds)
    if isinstance(answer, Observation):
        return answer
    text = answer.text
    status = answer.status
    evidence.update({"status": status, "elapsed_ms": answer.elapsed_ms, "body_excerpt": text[:EXCERPT_CHARS]})
    problems = []
    if status != expected_status:
        problems.append(f"answered {status}, expected {expected_status}")
        if 300 <= status < 400 and answer.headers.get("Location"):
            evidence["location"] = answer.headers["Location"]
            problems[-1] += f" (a redirect to {answer.headers['Location']}, not followed)"
    if body_contains is not None:
        found = body_contains in text
        evidence["body_contains"] = found
        if not found:
            problems.append(f"its body ({len(answer.body)} bytes read) does not contain {body_contains!r}")
    if problems:
        return Observation(FAIL, status, evidence, message="The endpoint " + "; ".join(problems) + ".")
    return Observation(PASS, status, evidence, message=f"Answered {status} in {answer.elapsed_ms} ms.")


def _timed_out(error: BaseException) -> bool:
    """requests raises a read timeout met while streaming the body as a ConnectionError: look inside."""
    if isinstance(error, requests.Timeout):
        return True
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            continue  # a ConnectTimeoutError subclass for history's sake, raised for a refused connection
        if isinstance(current, TimeoutError | urllib3.exceptions.TimeoutError):
            return True
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]
    return False
