"""A URL as the request will use it, read by one parser (urllib3's) for the lookup and the
connection alike."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3.exceptions
from urllib3.util import parse_url

from .errors import InvalidURL


@dataclass(frozen=True)
class URLTarget:
    """Where a URL points, as the request will use it (one parser, urllib3's, for the lookup and the
    connection alike: two parsers reading one URL two ways is how filters are slipped past)."""

    scheme: str
    host: str  # as urllib3 wants it: lowercase, IDNA, IPv6 in brackets
    dns_host: str
    port: int
    request_uri: str


def url_problem(url: str) -> str:
    """What makes `url` unusable for any request from here ("" when nothing): http(s) only, a host,
    no user name or password (a check's URL is shown on pages), a valid port."""
    try:
        parse(url)
    except InvalidURL as error:
        return str(error)
    return ""


def parse(url: str) -> URLTarget:
    """The URL's scheme, host and port, or InvalidURL saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
        parsed = parse_url(url)
    except (ValueError, urllib3.exceptions.LocationParseError) as error:
        raise InvalidURL(f"not a valid URL ({error}).") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise InvalidURL("must start with http:// or https://.")
    if "@" in parts.netloc:
        raise InvalidURL("must not contain a user name or password.")
    if not parts.hostname or not parsed.host:
        raise InvalidURL("has no host name.")
    port = parsed.port or (443 if scheme == "https" else 80)
    return URLTarget(scheme, parsed.host, parsed.host.strip("[]"), port, parsed.request_uri or "/")
