"""Real receivers for notifications: an HTTP server (Apprise's json:// and mmost:// post to it)
and an SMTP server (aiosmtpd) for mailto://, both on loopback, which the test settings'
EGRESS_TEST_ALLOW_LOOPBACK lets the egress policy reach."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port


@dataclass
class Posted:
    path: str
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    port: int = 0
    posts: list[Posted] = field(default_factory=list)
    status: int = 200
    failures: int = 0

    def answer(self) -> int:
        if self.failures:
            self.failures -= 1
            return 500
        return self.status


@pytest.fixture
def http_receiver():
    state = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.posts.append(Posted(self.path, body))
            status = state.answer()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.port = server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def smtp_server():
    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            box.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    # AUTH over plain text: the test's server has no certificate (Apprise's mode=insecure).
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def local_targets(settings):
    """Plain-text kinds (json://, mmost://) allowed, and retries without waiting."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.NOTIFY_RETRY_BASE_SECONDS = 0
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_PAUSE_AFTER_FAILURES = 2
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)
