"""Where the server may connect on a user's behalf (core.egress), attacked from every caller.

Issue #13 measured that an editor's `http_endpoint` check fetched the worker's own /metrics on
127.0.0.1, the demo AWS on loopback, 10.0.0.1, Redis' and PostgreSQL's ports, and that a viewer
read the answers in the check runs; webhooks took internal IPv4 addresses wrapped in IPv6
(`[64:ff9b::a9fe:a9fe]`, `[2002:a9fe:a9fe::]`, `[::127.0.0.1]`). Here every refused range is tried
as an IP literal (with and without a port, IPv6 in upper and lower case) and as a host name that
resolves to it (a fake `socket.getaddrinfo`), against webhooks (validate_target and a real
delivery attempt), `http_endpoint` checks (clean and probe) and inference checks (clean and probe),
with nothing ever connected. Then: DNS rebinding (one lookup, the connection to the address
judged), redirects, the byte cap and the deadline against real local servers, a workspace's
allow-list (its checks only, never loopback, metadata or this instance's services), and
`validate_allow_entry`.

The test suite's one hole, EGRESS_TEST_ALLOW_LOOPBACK, is turned off here except where a local
server must answer (`local_servers`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError

from core import egress
from ops import runner
from ops import services as ops_services
from ops.checks import http as http_checks
from ops.checks import inference, registry
from ops.checks.base import ERROR, FAIL, PASS
from ops.models import Check
from tests.conftest import ROOT
from tracker import services, webhooks
from tracker.models import Webhook, WebhookDelivery, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_a_savepoint(db):
    """This module needs none of the package's world (overrides tests/security/conftest.py's)."""
    yield


@pytest.fixture(autouse=True)
def production_rules(settings):
    """Production's rules: no loopback, no private webhook targets. http allowed for webhooks, so
    that what refuses a target below is its address, not its scheme."""
    settings.EGRESS_TEST_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    return settings


@pytest.fixture(autouse=True)
def connections(monkeypatch) -> list[tuple[Any, ...]]:
    """Every connection egress opens (the addresses it was given). Nothing refused may get one."""
    opened: list[tuple[Any, ...]] = []
    connect = egress._connect

    def spy(conn, addresses, deadline):
        opened.append(tuple(str(address) for address in addresses))
        return connect(conn, addresses, deadline)

    monkeypatch.setattr(egress, "_connect", spy)
    return opened


# --- the ranges --------------------------------------------------------------------------------------

# Never reachable, whatever a workspace allows or the operator sets.
NEVER = [
    "127.0.0.1",
    "127.1.2.3",
    "0.0.0.0",
    "0.1.2.3",
    "169.254.169.254",  # the cloud metadata service
    "169.254.170.2",  # the ECS task credentials endpoint
    "::1",
    "::",
    "fe80::1",
    "fd00:ec2::254",  # the IPv6 metadata service
    # IPv4 loopback and link-local wrapped in IPv6: IPv4-mapped, IPv4-compatible, IPv4-translated,
    # NAT64 (well-known and local-use), 6to4 and Teredo (client and server).
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::a9fe:a9fe",
    "::ffff:0:127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a9fe:a9fe",
    "64:ff9b:1:a9fe:a9:fe00::",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::",
    "2002:a9fe:a9fe:1::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (inverted)
    "2001:0:a9fe:a9fe::1",  # Teredo, server 169.254.169.254
]
# Not public: refused unless a workspace allows them (checks) or the operator does (webhooks).
INTERNAL = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # shared, carrier-grade NAT
    "198.18.0.1",  # benchmarking
    "192.0.2.1",  # documentation
    "192.0.0.8",  # IETF protocol assignments
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "fd12:3456::1",
    "fc00::1",
    "ff02::1",
    "2001:2::1",  # benchmarking
    "2001:db8::1",  # documentation
    # The wrappers themselves, around private and public IPv4 addresses alike.
    "::ffff:10.0.0.1",
    "::ffff:8.8.8.8",
    "::10.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b::808:808",
    "64:ff9b:1::808:808",
    "2002:a00:1::",
    "2002:808:808::",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
]
REFUSED = NEVER + INTERNAL


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def literal_urls(address: str) -> list[str]:
    """The address in a URL: with a port and without, and IPv6 in upper case too."""
    host = _bracketed(address)
    urls = [f"http://{host}:8080/status", f"http://{host}/status"]
    if ":" in address:
        urls.append(f"http://{host.upper()}:8443/status")
    return urls


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Make `getaddrinfo` answer `answers` (host -> addresses); returns the hosts looked up, in order."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


NAME = "service.internal.example"


def by_name(monkeypatch, address: str, port: int = 8080) -> str:
    """A URL whose host name resolves to `address`."""
    fake_dns(monkeypatch, {NAME: [address]})
    return f"http://{NAME}:{port}/status"


# --- webhooks ----------------------------------------------------------------------------------------


@pytest.fixture
def operation(db):
    workspace = Workspace.objects.create(name="Egress", slug=f"egress-{uuid.uuid4().hex[:8]}")
    return services.operation_create(workspace=workspace, name="Operation Egress", actor=None)


def attempt_delivery(operation, url: str) -> WebhookDelivery:
    """A delivery to `url` (saved without the save-time check, as if DNS had changed since), attempted."""
    hook = Webhook.objects.create(operation=operation, url=url, secret="s3cret", events=[], active=True)
    delivery = WebhookDelivery.objects.create(
        webhook=hook, delivery_id=uuid.uuid4(), event="blocker.opened", payload={"event": "blocker.opened"}
    )
    return webhooks.delivery_attempt(delivery_id=str(delivery.delivery_id))


@pytest.mark.parametrize("address", REFUSED)
def test_webhooks_refuse_every_internal_address_as_a_literal(address, connections):
    for url in literal_urls(address):
        with pytest.raises(ValidationError, match="not public"):
            webhooks.validate_target(url)
    assert connections == []


@pytest.mark.parametrize("address", REFUSED)
def test_webhooks_refuse_a_name_that_resolves_to_an_internal_address(address, monkeypatch, connections):
    url = by_name(monkeypatch, address)
    with pytest.raises(ValidationError, match="resolves to an address that is not public") as refused:
        webhooks.validate_target(url)
    assert address not in str(refused.value)  # our internal DNS is none of an operation admin's business
    assert connections == []


@pytest.mark.parametrize("address", REFUSED)
def test_a_webhook_delivery_is_never_sent_to_an_internal_address(address, operation, monkeypatch, connections):
    for url in [literal_urls(address)[0], by_name(monkeypatch, address)]:
        delivery = attempt_delivery(operation, url)
        assert delivery.status == WebhookDelivery.Status.FAILED, url
        assert delivery.error.startswith("Target refused:") and delivery.response_status is None
    assert connections == []


@pytest.mark.parametrize("address", NEVER)
def test_private_webhook_targets_still_never_reach_loopback_metadata_or_wrapped_forms(address, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    webhooks.validate_target("http://10.0.0.1:8080/hook")  # what the setting is for
    for url in literal_urls(address):
        with pytest.raises(ValidationError, match="not public"):
            webhooks.validate_target(url)


# --- http_endpoint checks ------------------------------------------------------------------------------


def clean_problem(code: str, params: dict[str, Any]) -> str:
    try:
        registry.get(code).clean(params, None)
    except ValidationError as error:
        return " ".join(message for messages in error.message_dict.values() for message in messages)
    return ""


@pytest.mark.parametrize("address", NEVER)
def test_an_http_check_to_a_never_reachable_literal_is_refused_when_saved(address):
    for url in literal_urls(address):
        assert "checks never connect to it" in clean_problem("http_endpoint", {"url": url}), url


@pytest.mark.parametrize("address", REFUSED)
def test_an_http_check_never_connects_to_an_internal_address(address, monkeypatch, connections):
    urls = literal_urls(address) + [by_name(monkeypatch, address)]
    for url in urls:
        observation = http_checks.probe(url, timeout_seconds=2, body_contains="x")
        assert (observation.status, observation.error_code) == (ERROR, "TargetRefused"), (url, observation)
        assert observation.observed is None and "status" not in observation.evidence
    assert connections == []
    assert "resolves to" in observation.message and address not in observation.message


def test_the_services_own_ports_are_never_reachable_even_when_allowed(settings, monkeypatch, connections):
    """Redis, the broker, the cache, PostgreSQL and the worker's metrics: never, allow-list or not."""
    settings.REDIS_URL = "redis://10.9.8.7:6379/0"
    settings.CELERY_BROKER_URL = "amqp://guest@10.9.8.6//"
    settings.WORKER_METRICS_PORT = 9808  # on 127.0.0.1 (its default): every internal address of this host
    monkeypatch.setitem(
        settings.DATABASES,
        "egress-replica",
        {"ENGINE": "django.db.backends.postgresql", "HOST": "10.9.8.5", "PORT": ""},
    )
    allow = ("10.0.0.0/8",)
    for url in (
        "http://10.9.8.7:6379/",
        "http://[::ffff:10.9.8.7]:6379/",
        "http://10.9.8.6:5672/",
        "http://10.9.8.5:5432/",
        "http://10.1.2.3:9808/metrics",
    ):
        observation = http_checks.probe(url, timeout_seconds=1, egress_allow=allow)
        assert observation.error_code == "TargetRefused", (url, observation)
        assert "never reachable" in observation.message
    assert connections == []
    # Another port of the same host is what the allow-list opens.
    observation = http_checks.probe("http://10.9.8.7:6380/", timeout_seconds=0.2, egress_allow=allow)
    assert observation.error_code != "TargetRefused"
    assert connections == [("10.9.8.7",)]


# --- inference checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("address", NEVER)
def test_an_inference_check_to_a_never_reachable_literal_is_refused_when_saved(address):
    for url in literal_urls(address):
        assert "checks never connect to it" in clean_problem(
            "inference_endpoint", {"url": url.removesuffix("/status"), "model": "iris"}
        )


@pytest.mark.parametrize("address", REFUSED)
def test_an_inference_check_never_sends_its_token_to_an_internal_address(address, monkeypatch, connections):
    base = f"http://{_bracketed(address)}:8080"
    for url in [base, by_name(monkeypatch, address).removesuffix("/status")]:
        observation = inference.probe(url=url, model="iris", token="t0ken", owner="owner", sample=[[1, 2]])
        assert (observation.status, observation.error_code) == (ERROR, "TargetRefused"), (url, observation)
    assert connections == []


# --- DNS rebinding -----------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str | None]] = []  # (path, Host header) of every request
        self.url = f"http://127.0.0.1:{self.server_port}"


@pytest.fixture
def local_server(settings) -> Iterator[_Server]:
    """A local server for the transport tests; loopback reachable for it (the test suite's setting)."""
    settings.EGRESS_TEST_ALLOW_LOOPBACK = True
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.seen.append((self.path, self.headers.get("Host")))  # type: ignore[attr-defined]
        if self.path.startswith("/redirect-to/"):
            self.send_response(302)
            self.send_header("Location", unquote(self.path.removeprefix("/redirect-to/")))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/drip":  # one byte every 50 ms for 10 s: no single read ever times out
            self.send_response(200)
            self.send_header("Content-Length", "200")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
            return
        body = b"ok " + (b"x" * 5_000_000 + b"needle" if self.path == "/huge" else b"needle")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client stopped reading: that is the byte cap

    def log_message(self, *args: Any) -> None:
        pass


def test_dns_rebinding_the_connection_goes_to_the_one_address_judged(local_server, monkeypatch, connections):
    """First answer: this test's server (allowed here). Any later one: the metadata service."""
    port = local_server.server_port
    asked: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        asked.append(host)
        address = "127.0.0.1" if len(asked) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    observation = http_checks.probe(f"http://rebind.example:{port}/health", timeout_seconds=5)

    assert observation.status == PASS, observation.message
    assert asked == ["rebind.example"]  # resolved once: nothing left to rebind
    assert connections == [("127.0.0.1",)]
    # ... while the request still names the host (Host header; TLS would use it for SNI and the certificate).
    assert local_server.seen == [("/health", f"rebind.example:{port}")]


def _certificates(folder, name: str) -> tuple[str, str, str]:
    """A CA, and a server certificate for `name` it signs: (CA file, certificate file, key file)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def make(subject: str, issuer, issuer_key, key, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egress test CA")])
    ca = make("egress test CA", ca_name, ca_key, ca_key, ca=True)
    certificate = make(name, ca_name, ca_key, key, ca=False)
    files = {"ca.pem": ca, "server.pem": certificate}
    for file, cert in files.items():
        (folder / file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(folder / "ca.pem"), str(folder / "server.pem"), str(folder / "server.key")


def test_tls_goes_to_the_address_judged_but_speaks_and_verifies_the_host_name(
    tmp_path, settings, monkeypatch, connections
):
    """Pinning the address must not cost TLS anything: SNI and the certificate check use the name."""
    import ssl

    pytest.importorskip("cryptography")
    settings.EGRESS_TEST_ALLOW_LOOPBACK = True
    ca_file, cert_file, key_file = _certificates(tmp_path, "pinned.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = _Server()
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        asked = fake_dns(monkeypatch, {"pinned.example": ["127.0.0.1"], "impostor.example": ["127.0.0.1"]})
        monkeypatch.setattr(egress.certifi, "where", lambda: ca_file)
        port = server.server_port
        policy = egress.Policy.for_checks()

        answer = egress.fetch("GET", f"https://pinned.example:{port}/ok", policy=policy, timeout=5, max_bytes=100)

        assert answer.status == 200 and answer.body == b"ok needle"
        assert names == ["pinned.example"] and server.seen == [("/ok", f"pinned.example:{port}")]
        assert asked == ["pinned.example"] and connections == [("127.0.0.1",)]
        # The same address under a name its certificate does not have: refused by TLS, as it must be.
        with pytest.raises(egress.TransportFailed, match="TLS"):
            egress.fetch("GET", f"https://impostor.example:{port}/ok", policy=policy, timeout=5, max_bytes=100)
    finally:
        server.shutdown()
        server.server_close()


def test_dns_rebinding_to_an_internal_address_is_refused_before_connecting(monkeypatch, connections, operation):
    """First answer internal: refused without a connection, and without a second lookup either."""
    asked = fake_dns(monkeypatch, {"rebind.example": ["10.0.0.7"]})
    assert http_checks.probe("http://rebind.example/").error_code == "TargetRefused"
    assert attempt_delivery(operation, "http://rebind.example/hook").error.startswith("Target refused")
    assert asked == ["rebind.example", "rebind.example"] and connections == []  # one lookup each


def test_a_name_with_one_internal_address_among_public_ones_is_refused_whole(monkeypatch, connections):
    fake_dns(monkeypatch, {"mixed.example": ["93.184.216.34", "10.0.0.5"]})
    assert http_checks.probe("http://mixed.example/").error_code == "TargetRefused"
    with pytest.raises(ValidationError, match="not public"):
        webhooks.validate_target("https://mixed.example/hook")
    assert connections == []


# --- redirects, the byte cap, the deadline ------------------------------------------------------------------


def test_a_redirect_to_an_internal_address_is_refused_at_its_hop(local_server, connections):
    local_servers = local_server.url
    policy = egress.Policy.for_checks()
    for target in ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/"):
        with pytest.raises(egress.Refused):
            egress.fetch(
                "GET", f"{local_servers}/redirect-to/{target}", policy=policy, timeout=5, max_bytes=100, max_redirects=3
            )
    assert all(hop == ("127.0.0.1",) for hop in connections)  # only the first hop ever connected
    # A redirect that stays on an allowed address is followed, hop by hop.
    answer = egress.fetch(
        "GET",
        f"{local_servers}/redirect-to/{local_servers}/ok",
        policy=policy,
        timeout=5,
        max_bytes=100,
        max_redirects=1,
    )
    assert answer.status == 200 and answer.redirects == (f"{local_servers}/redirect-to/{local_servers}/ok",)
    # ... and by default not at all: the checks and webhooks see the 302 itself.
    observation = http_checks.probe(f"{local_servers}/redirect-to/http://10.0.0.1/", timeout_seconds=5)
    assert (observation.status, observation.observed) == (FAIL, 302) and "not followed" in observation.message


def test_at_most_max_bytes_of_a_body_are_read(local_server):
    local_servers = local_server.url
    answer = egress.fetch("GET", f"{local_servers}/huge", policy=egress.Policy.for_checks(), timeout=5, max_bytes=1000)
    assert (answer.status, len(answer.body), answer.truncated) == (200, 1000, True)
    observation = http_checks.probe(f"{local_servers}/huge", body_contains="needle", timeout_seconds=5)
    assert observation.status == FAIL and f"({http_checks.MAX_BODY_BYTES} bytes read)" in observation.message


def test_the_time_limit_is_one_deadline_not_a_limit_per_read(local_server, operation, settings):
    """A server that drips a byte every 50 ms never lets one read time out; the deadline still ends it."""
    local_servers = local_server.url
    started = time.monotonic()
    with pytest.raises(egress.TimedOut):
        egress.fetch("GET", f"{local_servers}/drip", policy=egress.Policy.for_checks(), timeout=1, max_bytes=10_000)
    assert time.monotonic() - started < 2.5

    started = time.monotonic()
    observation = http_checks.probe(f"{local_servers}/drip", timeout_seconds=1)
    assert (observation.status, observation.error_code) == (FAIL, "Timeout")
    assert time.monotonic() - started < 2.5


# --- a workspace's allow-list -------------------------------------------------------------------------------


def _workspace_operation(slug: str, allow: list[str]):
    workspace = Workspace.objects.create(name=slug, slug=slug, egress_allow=allow)
    return services.operation_create(workspace=workspace, name=f"Operation {slug}", actor=None)


def test_an_allowed_cidr_opens_its_addresses_to_that_workspaces_checks_only(db, monkeypatch, connections):
    fake_dns(monkeypatch, {"grafana.internal": ["10.20.4.5"]})
    allowing = _workspace_operation("allowing", ["10.20.0.0/16", "db.internal:5433"])
    other = _workspace_operation("other", [])
    checks = {}
    for label, operation in (("allowing", allowing), ("other", other)):
        for name, url in (
            ("cidr", "http://10.20.1.2:8080/"),
            ("name", "http://grafana.internal/"),
            ("out", "http://10.21.0.1/"),
        ):
            check = ops_services.check_create(
                operation=operation,
                name=name,
                type="http_endpoint",
                actor=None,
                params={"url": url, "timeout_seconds": 0.3},
            )
            checks[label, name] = check
    claim_id, groups = ops_services.claim_due()
    for ids in groups.values():
        runner.run_group(claim_id=claim_id, check_ids=ids)

    def result(slug: str, name: str) -> Check:
        return Check.objects.get(pk=checks[slug, name].pk)

    # The allowing workspace's checks tried 10.20.x (nothing answers there: a FAIL, not a refusal) ...
    for name in ("cidr", "name"):
        assert result("allowing", name).status == "fail", result("allowing", name).message
    assert sorted(connections) == [("10.20.1.2",), ("10.20.4.5",)]
    # ... but not outside the CIDR, and the other workspace's checks reached nothing at all.
    assert result("allowing", "out").status == "error" and "egress allow-list" in result("allowing", "out").message
    for name in ("cidr", "name", "out"):
        assert result("other", name).status == "error" and "egress allow-list" in result("other", name).message


def test_a_host_entry_allows_only_that_host_name_and_an_entry_with_a_port_only_that_port(monkeypatch, connections):
    fake_dns(monkeypatch, {"grafana.internal": ["10.20.4.5"], "other.internal": ["10.20.4.5"]})
    allow = ("grafana.internal:3000",)
    assert (
        http_checks.probe("http://grafana.internal:3000/", timeout_seconds=0.2, egress_allow=allow).error_code
        != "TargetRefused"
    )
    for url in ("http://grafana.internal:3001/", "http://other.internal:3000/", "http://10.20.4.5:3000/"):
        assert http_checks.probe(url, timeout_seconds=0.2, egress_allow=allow).error_code == "TargetRefused", url
    assert connections == [("10.20.4.5",)]


@pytest.mark.parametrize("address", NEVER)
def test_loopback_and_metadata_stay_refused_even_when_listed(address, monkeypatch, connections):
    # Entries the validator refuses, as if written into the database directly: still never honoured.
    allow = ("0.0.0.0/0", "::/0", "127.0.0.0/8", "169.254.0.0/16", "fe80::/10", "::ffff:0:0/96", "2002::/16", NAME)
    for url in literal_urls(address) + [by_name(monkeypatch, address)]:
        observation = http_checks.probe(url, timeout_seconds=1, egress_allow=allow)
        assert observation.error_code == "TargetRefused" and "never reachable" in observation.message, url
    assert connections == []


# --- validate_allow_entry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("10.20.0.0/16", "10.20.0.0/16"),
        (" 10.20.0.0/16:9090 ", "10.20.0.0/16:9090"),
        ("10.20.0.5", "10.20.0.5"),
        ("10.20.0.5:8080", "10.20.0.5:8080"),
        ("FD12::5", "fd12::5"),
        ("[fd12::5]:8080", "[fd12::5]:8080"),
        ("fd12::/48", "fd12::/48"),
        ("Grafana.Internal.", "grafana.internal"),
        ("grafana.internal:3000", "grafana.internal:3000"),
        ("fd00::/8", "fd00::/8"),  # holds the IPv6 metadata address: that one stays refused
    ],
)
def test_validate_allow_entry_accepts_cidrs_addresses_and_names(entry, stored):
    assert egress.validate_allow_entry(entry) == stored


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("not a host", "is not a CIDR"),
        ("http://grafana.internal/", "is a URL"),
        ("user@grafana.internal", "is a URL"),
        ("10.20.0.0/33", "is not a CIDR"),
        ("10.20.1.0/16", "did you mean 10.20.0.0/16"),
        ("10.0.0.1:0", "is not a port"),
        ("10.0.0.1:65536", "is not a port"),
        ("grafana.internal:http", "is not a port"),
        ("[10.0.0.1]:80", "Brackets are for IPv6"),
        ("-bad-.internal", "is not a CIDR"),
        ("2130706433", "unusual form"),
        ("0x7f.1", "unusual form"),
        ("127.0.0.1", "loopback"),
        ("127.0.0.0/8", "loopback"),
        ("127.0.0.1:8000", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0.0.0.0/0", "list a narrower range"),
        ("::/0", "list a narrower range"),
        ("169.254.169.254", "link-local"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "metadata"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("64:ff9b::/96", "NAT64"),
        ("2002::/16", "6to4"),
        ("2001::/32", "Teredo"),
        ("localhost", "this host"),
        ("api.localhost:80", "this host"),
        ("metadata.google.internal", "metadata"),
    ],
)
def test_validate_allow_entry_refuses_garbage_and_what_could_never_be_honoured(entry, message):
    with pytest.raises(ValidationError) as refused:
        egress.validate_allow_entry(entry)
    assert message in " ".join(refused.value.messages)


def test_validate_allow_entry_refuses_this_instances_services(settings):
    settings.REDIS_URL = "redis://redis.internal:6379/0"
    settings.CELERY_BROKER_URL = "redis://10.9.8.7:6379/1"
    for entry in ("redis.internal:6379", "10.9.8.7:6379", "redis.internal"):
        with pytest.raises(ValidationError, match="this instance's own services"):
            egress.validate_allow_entry(entry)
    assert egress.validate_allow_entry("10.9.8.7:6380") == "10.9.8.7:6380"
    assert egress.validate_allow_entry("10.9.8.0/24") == "10.9.8.0/24"  # the service port stays refused in it


# --- the test suite's one hole --------------------------------------------------------------------------------


def test_the_test_loopback_setting_opens_plain_loopback_only(settings, connections):
    settings.EGRESS_TEST_ALLOW_LOOPBACK = True
    policy = egress.Policy.for_webhooks()
    assert policy.refusal("127.0.0.1", 8000) is None and policy.refusal("::1", 8000) is None
    for wrapped in ("::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "169.254.169.254"):
        assert policy.refusal(wrapped, 8000) is not None, wrapped


def test_production_refuses_the_test_loopback_setting():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "EGRESS_TEST_ALLOW_LOOPBACK": "1",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.EGRESS_TEST_ALLOW_LOOPBACK)"
    refused = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "for the test suite only" in refused.stderr
    del env["EGRESS_TEST_ALLOW_LOOPBACK"]
    started = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0 and started.stdout.strip() == "False", started.stderr


def test_what_a_refusal_says_is_json_safe_and_names_no_resolved_address(monkeypatch):
    url = by_name(monkeypatch, "10.0.0.1")
    observation = http_checks.probe(url)
    json.dumps([observation.evidence, observation.message])
    assert "10.0.0.1" not in observation.message and NAME in observation.message
