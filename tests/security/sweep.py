"""The machinery the security sweeps share: every route of the URL resolver, a concrete URL for it,
the forms of a page, and what a request wrote to the database.

- `ROUTES` is every pattern `get_resolver().url_patterns` holds, walked recursively, so a route
  added to any `urls.py` is in the sweeps without anyone listing it.
- `url_for` fills a route's parameters from a name -> value mapping (tests/security/world.py builds
  it from the objects of one operation); `reaches` checks with `resolve()` that the URL gets to that
  very route (one shadowed by an earlier pattern with the same path is reported, not swept twice).
- `forms_of` reads the `<form>`s of a page with the standard library's HTML parser.
- `db_writes` collects every INSERT, UPDATE or DELETE run while it is open. Two tables are left out:
  the session store (logging in and out, the messages framework) and the audit log (a refusal is
  recorded there on purpose: core/http_errors.py, the 403 handlers of the API and the pages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from rest_framework.views import APIView

UNSAFE_METHODS = ("post", "put", "patch", "delete")

# `(?P<name>...)` in a regex pattern (one level of nested parentheses allowed), `<conv:name>` in a path().
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern, with the namespaces and prefixes of the includes above it."""

    pattern: str  # e.g. "operations/<slug:slug>/tasks/<int:pk>/toggle/" or "api/^operations/(?P<slug>...)/$"
    name: str  # "tracker:task-toggle"; "" for an unnamed pattern (the admin's redirects and catch-all)
    callback: Callable  # the view; two patterns may share a path and a name, never a view

    @property
    def params(self) -> tuple[str, ...]:
        found = _REGEX_GROUP.findall(self.pattern) + _CONVERTER.findall(_REGEX_GROUP.sub("", self.pattern))
        return tuple(dict.fromkeys(found))

    @property
    def template(self) -> str:
        """The path with each parameter as `{name}`: "/operations/{slug}/tasks/{pk}/toggle/"."""
        path = _REGEX_GROUP.sub(lambda match: f"{{{match[1]}}}", self.pattern)
        return "/" + _CONVERTER.sub(lambda match: f"{{{match[1]}}}", path).replace("^", "").replace("$", "")

    def segment_before(self, name: str) -> str:
        """The literal path segment just before parameter `name` ("tasks" before {pk} above)."""
        parts = [part for part in self.template.split("/") if part]
        index = parts.index(f"{{{name}}}")
        return parts[index - 1] if index else ""

    @property
    def label(self) -> str:
        """The test id: the name when there is one, and the pattern."""
        return f"{self.name or '(unnamed)'} {self.pattern}"

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def is_api(self) -> bool:
        """A Django REST framework view: CSRF is DRF's SessionAuthentication's job, not the middleware's."""
        view = self.view_class
        return isinstance(view, type) and issubclass(view, APIView)

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    @property
    def csrf_exempt(self) -> bool:
        """Exempt from the CSRF middleware. DRF marks all its views so and checks sessions itself."""
        return bool(getattr(self.callback, "csrf_exempt", False)) and not self.is_api

    def api_methods(self) -> set[str]:
        """The HTTP methods a DRF view answers (a viewset's routed actions, within http_method_names)."""
        view = self.view_class
        allowed = set(view.http_method_names)
        actions = getattr(self.callback, "actions", None)
        if actions is not None:
            return {method for method in actions if method in allowed}
        return {method for method in allowed if hasattr(view, method) and method != "options"}


def _walk(patterns, prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            yield Route(prefix + str(entry.pattern), name, entry.callback)


def discover() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


ROUTES = discover()


class Unfillable(LookupError):
    """A route parameter the sweep has no value for."""


def url_for(route: Route, values: Mapping[str, Any]) -> str:
    """The route's URL with each parameter replaced by `values[name]` (quoted)."""

    def value(name: str) -> str:
        if name not in values:
            raise Unfillable(name)
        return quote(str(values[name]), safe="/")

    path = _REGEX_GROUP.sub(lambda match: value(match[1]), route.pattern)
    path = _CONVERTER.sub(lambda match: value(match[1]), path)
    return "/" + path.replace("^", "").replace("$", "")


def _bare(pattern: str) -> str:
    return pattern.replace("^", "").replace("$", "")


def route_of(url: str) -> Route | None:
    """The discovered route a URL resolves to (the first pattern that matches it, as Django picks)."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return next(
        (route for route in ROUTES if route.callback is match.func and _bare(route.pattern) == _bare(match.route)),
        None,
    )


def reaches(route: Route, url: str) -> bool:
    """Whether `url` resolves to this very route (and not to an earlier pattern that shadows it)."""
    return route_of(url) is route


# --- pages and their forms ------------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str  # absolute path (the page's own when the form names none)
    enctype: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # a file input has none: the test gives it

    @property
    def csrf_token(self) -> str | None:
        return next((value for name, value in self.fields if name == "csrfmiddlewaretoken"), None)

    def data(self, overrides: Mapping[str, Any] | None = None, *, with_token: bool = True) -> dict[str, Any]:
        """The fields as a browser would send them, with `overrides`, and with or without the CSRF token."""
        data: dict[str, Any] = {}
        for name, value in self.fields:
            if name == "csrfmiddlewaretoken" and not with_token:
                continue
            if name in data:
                data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
            else:
                data[name] = value
        data.update(overrides or {})
        return data


class _FormParser(HTMLParser):
    """Collects each form's method, action, encoding and the fields a browser would send unedited."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None  # the name of the open <select>
        self._multiple = False
        self._options: list[tuple[str, bool]] = []  # its (value, selected) so far
        self._option: tuple[str | None, bool, list[str]] | None = None  # the open <option>
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {name: (value if value is not None else "") for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_path, a.get("action") or self.page_path)
            self._form = Form(
                method=(a.get("method") or "get").lower(),
                action=urlsplit(action).path,
                enctype=a.get("enctype", "application/x-www-form-urlencoded"),
            )
            self.forms.append(self._form)
        elif self._form is None or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            else:
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options, self._multiple = a["name"], [], "multiple" in a
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a, [])
        elif tag == "textarea" and a.get("name"):
            self._textarea = (a["name"], [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value, selected, text = self._option
            self._options.append((value if value is not None else "".join(text).strip(), selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple:  # a single select sends its first option
                chosen = [value for value, _ in self._options[:1]]
            if self._form is not None:
                self._form.fields.extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            if self._form is not None:
                self._form.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(html: str, page_path: str) -> list[Form]:
    parser = _FormParser(page_path)
    parser.feed(html)
    parser.close()
    return parser.forms


def body_text(response) -> str:
    """The whole body, streamed or not, as text."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def is_csrf_refusal(response) -> bool:
    """Django's CSRF failure page, or DRF's `CSRF Failed: ...` error (both 403; a DRF view that renders
    HTML, Swagger UI's, shows its 403 page, but the response still holds the error)."""
    if response.status_code != 403:
        return False
    said = body_text(response) + str(getattr(response, "data", ""))
    return "CSRF verification failed" in said or "CSRF Failed" in said


@dataclass
class Request:
    method: str
    url: str
    form: dict[str, Any] | None = None  # a browser form's fields: the token is a field
    body: Any = None  # an API body (JSON, or (content type, bytes)); the token is a header

    def send(self, client, token: str | None):
        if self.form is not None:
            data = dict(self.form)
            for value in data.values():
                if isinstance(value, SimpleUploadedFile):
                    value.seek(0)
            if token:
                data["csrfmiddlewaretoken"] = token
            if self.method == "post":
                return client.post(self.url, data)
            encoded = urlencode(data, doseq=True)
            return client.generic(self.method.upper(), self.url, encoded, "application/x-www-form-urlencoded")
        headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
        if isinstance(self.body, tuple):
            content_type, data = self.body
        elif self.body is not None:
            content_type, data = "application/json", json.dumps(self.body)
        else:
            content_type, data = "application/octet-stream", b""
        return client.generic(self.method.upper(), self.url, data, content_type, **headers)


def token_on(client, path: str = "/") -> str:
    """The CSRF token of the first post form on the page (and the CSRF cookie, in the client). The
    operation list is the lightest page with one (base.html's log-out form)."""
    response = client.get(path)
    found = _TOKEN_INPUT.search(body_text(response))
    assert found, f"{path} ({response.status_code}) has no form to take a CSRF token from"
    return found[1]


_TOKEN_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


# --- what a request wrote ---------------------------------------------------------------------------

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Not changes to what the application holds: a session row (login, logout, messages), an audit entry
# (the log of a refusal, written on purpose).
IGNORED_TABLES = ("django_session", "audit_auditentry")


@contextmanager
def db_writes() -> Iterator[list[str]]:
    """Yields a list that, once the block ends, holds every statement of the block that wrote a row."""
    found: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        yield found
    for query in queries.captured_queries:
        sql = query["sql"]
        if _WRITE.match(sql) and not any(table in sql for table in IGNORED_TABLES):
            found.append(sql[:300])


def _tables() -> list[str]:
    models = apps.get_models()
    return sorted(
        {
            model._meta.db_table
            for model in models
            if model._meta.managed and not model._meta.proxy and model._meta.db_table not in IGNORED_TABLES
        }
    )


def row_counts() -> dict[str, int]:
    """The number of rows of every table of every installed app, in one query."""
    tables = _tables()
    quote_name = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{table}', COUNT(*) FROM {quote_name(table)}" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())
