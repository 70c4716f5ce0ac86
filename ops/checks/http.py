"""HTTP endpoint checks: does a URL answer with the expected status (and text) within a timeout.

Talks to the URL, not to AWS (`needs_aws` False). Where a check may connect is core.egress's rule,
the same for every request made on a user's behalf: public addresses, and the internal CIDRs,
addresses or host names its workspace's `egress_allow` list names; never loopback, link-local (the
cloud metadata service), the unspecified address, an IPv6 form wrapping one of those, or this
instance's own services (its database, Redis, the worker's metrics port), whatever is allowed. A
check pointed at one of those is refused when saved if its URL says so (an IP literal), and when it
runs otherwise: the host is resolved once per run, every address judged, and the connection goes
to the address judged (a second lookup could answer differently: DNS rebinding). No proxy from the
environment is used, redirects are not followed (a redirect could lead anywhere), at most 64 KB of
the body is read, and the whole request, connection and every read, lives within the time limit.

A run keeps, and shows its viewers, the verdict and what decided it: the status code, the time
taken, whether the body held `body_contains`. Never the body: a check that showed what a page says
would publish every page the server can reach, and `body_contains` already makes each one a
yes/no question.

`send` is that request on its own, for the other types that talk to a URL (the ML inference
endpoint check of ops.checks.inference).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core import egress

from .base import ERROR, FAIL, PASS, CallLog, CheckType, ClientFor, Observation, Target, register
from .rules import Params, expected_true

MAX_BODY_BYTES = 64 * 1024
MAX_TIMEOUT_SECONDS = 30
PARALLEL = 8  # endpoints of one group checked at once, so one slow URL does not hold up the rest
USER_AGENT = "SnailTrail-Checks/1"

Answer = egress.Answer


@register
class HttpEndpoint(CheckType):
    """GET a URL: PASS when it answers `expected_status` (and contains `body_contains`) in time.

    The observed value is the status code (None when nothing answered); the evidence holds the
    status, the time to the end of the read and whether the body held `body_contains`.
    """

    code = "http_endpoint"
    label = "HTTP endpoint answers"
    needs_aws = False
    help = (
        "params: url (http or https), timeout_seconds (up to 30, default 10), expected_status (default 200), "
        "body_contains (optional text the first 64 KB must contain). expected: empty or true. "
        "Public addresses only, and the internal ones your workspace's egress allow-list names; loopback, "
        "link-local (169.254.x.x, fe80::) and this server's own services never. Redirects are not followed."
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
        return probe(**target.params, egress_allow=target.egress_allow)
    except Exception as error:  # one odd URL must not lose the other checks of the group
        return Observation.error(type(error).__name__, f"GET {target.params.get('url')}: {error}"[:500])


def _url_problem(url: str) -> str:
    """What is wrong with a check's URL when it is saved, without DNS: its form, and an address
    (an IP literal) no check may ever reach. Internal addresses are judged when it runs, with its
    workspace's allow-list as it is then."""
    problem = egress.url_problem(url)
    if problem:
        return problem
    target = egress.parse(url)
    reason = egress.never_reachable(target.dns_host, target.port)
    if reason:
        return f"{target.dns_host} is {reason}; checks never connect to it."
    return ""


def send(
    method: str,
    url: str,
    *,
    evidence: dict[str, Any],
    timeout_seconds: float = 10,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    egress_allow: Iterable[str] = (),
) -> egress.Answer | Observation:
    """One request to `url` through core.egress (the workspace's allow-list in `egress_allow`), the
    body read up to MAX_BODY_BYTES, everything within `timeout_seconds`. Returns the Answer, or,
    when nothing answered, the FAIL / ERROR observation with `evidence` (completed with elapsed_ms
    when a request was sent). Never raises for a network failure.

    Error messages name the host and the kind of failure, never the request's headers: a caller
    may send a credential in them (ops.checks.inference)."""
    try:
        return egress.fetch(
            method,
            url,
            policy=egress.Policy.for_checks(egress_allow),
            timeout=timeout_seconds,
            max_bytes=MAX_BODY_BYTES,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            body=data,
        )
    except egress.Refused as refused:
        return Observation(ERROR, None, evidence, error_code=refused.code, message=f"Refused: {refused}.")
    except egress.InvalidURL as error:
        return Observation(ERROR, None, evidence, error_code=error.code, message=f"The URL {error}")
    except egress.Unresolvable as error:
        return Observation(FAIL, None, evidence, error_code=error.code, message=f"{error}.")
    except egress.TimedOut as error:
        evidence["elapsed_ms"] = round(timeout_seconds * 1000)
        return Observation(
            FAIL, None, evidence, error_code=error.code, message=f"The endpoint timed out after {timeout_seconds:g} s."
        )
    except egress.EgressError as error:
        return Observation(FAIL, None, evidence, error_code=error.code, message=str(error)[:500])


def probe(
    url: str,
    timeout_seconds: float = 10,
    expected_status: int = 200,
    body_contains: str | None = None,
    egress_allow: Iterable[str] = (),
) -> Observation:
    """One GET of `url`, judged. Never raises for a network failure: that is the check's answer."""
    evidence: dict[str, Any] = {"url": url}
    answer = send("GET", url, evidence=evidence, timeout_seconds=timeout_seconds, egress_allow=egress_allow)
    if isinstance(answer, Observation):
        return answer
    status = answer.status
    evidence.update({"status": status, "elapsed_ms": answer.elapsed_ms})
    problems = []
    if status != expected_status:
        problems.append(f"answered {status}, expected {expected_status}")
        if status in egress.REDIRECT_STATUSES:
            problems[-1] += " (a redirect, not followed)"
    if body_contains is not None:
        found = body_contains in answer.text
        evidence["body_contains"] = found
        if not found:
            problems.append(f"its body ({len(answer.body)} bytes read) does not contain {body_contains!r}")
    if problems:
        return Observation(FAIL, status, evidence, message="The endpoint " + "; ".join(problems) + ".")
    return Observation(PASS, status, evidence, message=f"Answered {status} in {answer.elapsed_ms} ms.")
