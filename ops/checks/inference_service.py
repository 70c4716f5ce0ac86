"""Where an inference endpoint check asks its model: another deployment over HTTP, or this
instance's own mlservice route in process (see ops.checks.inference for why never over loopback).

`ModelService.ask` returns a `Reply` (the status, at most 64 KB of the body, the time it took) or,
for a request that could not be made or answered, the check's failed `Observation`.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import http
from .base import Observation


def model_path(model: str, version: str | None) -> str:
    path = f"/v2/models/{quote(model, safe='')}"
    return f"{path}/versions/{quote(version, safe='')}" if version else path


@dataclass(frozen=True)
class Reply:
    """What the model's server answered: the status, at most 64 KB of the body, the time it took."""

    status: int
    body: bytes
    elapsed_ms: int
    truncated: bool = False


class ModelService:
    """Where the model is asked: another deployment over HTTP (`url`), or this instance in process."""

    def __init__(self, *, url: str | None, token: str, timeout_seconds: float, egress_allow: Any) -> None:
        self.url = url.rstrip("/") if url else None
        self.local = self.url is None
        self.token, self.timeout_seconds, self.egress_allow = token, timeout_seconds, egress_allow

    def where(self, path: str) -> str:
        """How a request is named in messages and evidence: its URL, or its path here."""
        return f"{self.url}{path}" if self.url else path

    def evidence(self, path: str) -> dict[str, Any]:
        return {"url": self.where(path)} if self.url else {"served_by": "this instance", "path": path}

    def ask(self, method: str, path: str, evidence: dict[str, Any], body: bytes | None = None) -> Reply | Observation:
        if self.local:
            return in_process(method, path, self.token, body)
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        answer = http.send(
            method,
            self.where(path),
            evidence=evidence,
            timeout_seconds=self.timeout_seconds,
            headers=headers,
            data=body,
            egress_allow=self.egress_allow,
        )
        if isinstance(answer, Observation):
            return answer
        return Reply(answer.status, answer.body, answer.elapsed_ms, answer.truncated)

    def error_text(self, reply: Reply) -> str:
        """What to say about a non-200 beyond its status: our own server's `error` (its first line),
        nothing of another service's body."""
        if not self.local:
            return ""
        try:
            body = json.loads(reply.body)
        except ValueError:
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        return error.strip().splitlines()[0][:300] if isinstance(error, str) and error.strip() else ""


def in_process(method: str, path: str, token: str, body: bytes | None) -> Reply:
    """The request handed to the view mlservice's URL resolves to, as an HTTP request would reach
    it (minus the socket and the middleware): the same token, reach, throttle, validation and
    prediction. Imported here: the ops app does not need mlservice to be loaded to exist."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.urls import Resolver404, resolve

    data = body or b""
    request = WSGIRequest(
        {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "in-process",
            "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
            "HTTP_ACCEPT": "application/json",
            "HTTP_AUTHORIZATION": f"Token {token}",
        }
    )
    started = time.perf_counter()
    try:
        match = resolve(path)
    except Resolver404:
        return Reply(404, json.dumps({"error": f"This instance serves no route {path}."}).encode(), 0)
    response = match.func(request, *match.args, **match.kwargs)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    content = bytes(response.content)
    truncated = len(content) > http.MAX_BODY_BYTES
    return Reply(response.status_code, content[: http.MAX_BODY_BYTES], elapsed_ms, truncated)


def parsed(reply: Reply) -> tuple[dict[str, Any], str]:
    if reply.truncated:
        return {}, f"it is longer than {http.MAX_BODY_BYTES // 1024} KB"
    try:
        body = json.loads(reply.body)
    except ValueError:
        return {}, "it is not JSON"
    if not isinstance(body, dict):
        return {}, "it is not a JSON object"
    return body, ""
