"""Fixtures of the tracker's tests: a local webhook receiver and the settings that let it be reached."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# --- a local receiver -------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["X-SnailTrail-Event"]

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers `status`, or 500 while `failures` lasts."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    failures: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def answer(self) -> int:
        if self.failures:
            self.failures -= 1
            return 500
        return self.status

    @property
    def events(self) -> list[str]:
        return [request.event for request in self.requests]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers), body))
            status = state.answer()
            self.send_response(status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            reply = f"answer {status}".encode()
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/snail"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_targets(settings):
    """Let webhooks reach the local receiver, and retry without waiting."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def production_targets(settings):
    """Production's rules: https, public addresses, and no loopback (the test suite's exception off)."""
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_TEST_ALLOW_LOOPBACK = False
    return settings


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the sends) at the end of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
