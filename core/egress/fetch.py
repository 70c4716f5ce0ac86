"""The one way this server makes a request on a user's behalf: `fetch`."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3.exceptions
from urllib3 import HTTPConnectionPool
from urllib3.util import Timeout

from .addresses import IP
from .connection import _PinnedPool, _PinnedSecurePool
from .deadline import _Deadline
from .errors import ConnectFailed, EgressError, TimedOut, TooManyRedirects, TransportFailed
from .lookup import resolve
from .policy import Policy
from .urls import URLTarget, parse

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Answer:
    """What a target answered: its status and headers, and at most `max_bytes` of its body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body went on past max_bytes
    elapsed_ms: int  # from the first lookup to the end of the read
    url: str  # the URL that answered (after the redirects followed)
    redirects: tuple[str, ...] = field(default=())

    @property
    def encoding(self) -> str:
        content_type = self.headers.get("Content-Type", "")
        match = re.search(r"charset=[\"']?([-\w.:]+)", content_type, re.IGNORECASE)
        return match.group(1) if match else "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.encoding, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def fetch(
    method: str,
    url: str,
    *,
    policy: Policy,
    timeout: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    max_redirects: int = 0,
) -> Answer:
    """One request (and the redirects the caller allows), every hop judged by `policy` and connected
    to the address judged, all within `timeout` seconds in total and `max_bytes` of body.

    Raises an EgressError: InvalidURL, Refused, Unresolvable, TimedOut, ConnectFailed,
    TransportFailed or TooManyRedirects. A 3xx is returned as it is when `max_redirects` is 0."""
    deadline = _Deadline(timeout)
    started = time.monotonic()
    request = _Request(method, url, dict(headers or {}), body)
    hops: list[str] = []
    try:
        while True:
            status, answer_headers, data, truncated = _one(request, policy, deadline, max_bytes)
            location = answer_headers.get("Location")
            if not (status in REDIRECT_STATUSES and location and max_redirects > 0):
                elapsed_ms = round((time.monotonic() - started) * 1000)
                return Answer(status, answer_headers, data, truncated, elapsed_ms, request.url, tuple(hops))
            if len(hops) >= max_redirects:
                raise TooManyRedirects(f"more than {max_redirects} redirects")
            hops.append(request.url)
            request = request.redirected(status, location)
    finally:
        deadline.cancel()


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    def redirected(self, status: int, location: str) -> _Request:
        """The request a redirect asks for: credentials dropped for another host, a POST made a GET
        where browsers do."""
        following = urljoin(self.url, location.strip())
        method, headers, body = self.method, self.headers, self.body
        if urlsplit(following).hostname != urlsplit(self.url).hostname:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
        if status == 303 or (status in (301, 302) and method.upper() == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        return _Request(method, following, headers, body)


def _pool(target: URLTarget, addresses: tuple[IP, ...], deadline: _Deadline) -> HTTPConnectionPool:
    """A one-connection pool to the judged addresses, with what is left of the deadline."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise TimedOut("the time allowed ran out before the request was sent")
    common: dict[str, Any] = {
        "timeout": Timeout(connect=remaining, read=remaining),
        "maxsize": 1,
        "retries": False,
        "egress_addresses": addresses,
        "egress_deadline": deadline,
    }
    if target.scheme == "https":
        return _PinnedSecurePool(
            target.host, target.port, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common
        )
    return _PinnedPool(target.host, target.port, **common)


def _one(request: _Request, policy: Policy, deadline: _Deadline, max_bytes: int) -> tuple[int, Any, bytes, bool]:
    target = parse(request.url)
    addresses = tuple(resolve(target.dns_host, target.port, policy, deadline=deadline))
    pool = _pool(target, addresses, deadline)
    response = None
    try:
        response = pool.urlopen(
            request.method,
            target.request_uri,
            body=request.body,
            headers={"Accept-Encoding": "identity", **request.headers},
            retries=False,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=True,
        )
        data, truncated = _read(response, deadline, max_bytes)
        return response.status, response.headers, data, truncated
    except EgressError:
        raise
    except Exception as error:
        failure = _failure(error, target, deadline)
        if failure is error:
            raise
        raise failure from None
    finally:
        if response is not None:
            response.release_conn()
        pool.close()


def _read(response: Any, deadline: _Deadline, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the body, and whether there was more; TimedOut past the deadline."""
    data = bytearray()
    truncated = False
    while True:
        if deadline.passed():
            raise TimedOut("the time allowed ran out while reading the answer")
        chunk = response.read(min(64 * 1024, max_bytes + 1 - len(data)), decode_content=True)
        if not chunk:
            break
        data.extend(chunk)
        if len(data) > max_bytes:
            del data[max_bytes:]
            truncated = True
            break
    if deadline.expired:  # the deadline cut the stream short: what was read is not the answer
        raise TimedOut("the time allowed ran out while reading the answer")
    return bytes(data), truncated


def _failure(error: Exception, target: URLTarget, deadline: _Deadline) -> Exception:
    """The EgressError a transport error is (the error itself when it is none of them)."""
    where = f"{target.dns_host}:{target.port}"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        if deadline.passed():
            return TimedOut("the time allowed ran out while connecting")
        reason = "connection refused" if "refused" in str(error).lower() else f"could not connect ({_cause(error)})"
        return ConnectFailed(f"{where}: {reason}")
    if isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
        return TimedOut("the time allowed ran out")
    if isinstance(error, urllib3.exceptions.SSLError):
        return TransportFailed(f"TLS with {target.dns_host} failed ({_cause(error)})")
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        if deadline.passed():
            return TimedOut("the time allowed ran out")
        return TransportFailed(f"{where}: {_cause(error)}")
    return error


def _cause(error: BaseException) -> str:
    """The innermost reason of a urllib3 error, without the connection object's repr."""
    text = str(error)
    if ": " in text and text.startswith("<"):
        text = text.split(": ", 1)[1]
    return text[:300]
