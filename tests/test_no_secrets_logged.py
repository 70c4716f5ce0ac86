"""No secret is ever logged: the whole app runs as processes, a scenario handles every kind of
secret over HTTP, and everything the processes printed is searched for each of them.

The processes, each with its stdout and stderr captured to a file of its own (the app logs only
to the console, so that is every log line of the run):

- the one-shot commands a deployment runs first: the users and the model `iris`, registered from
  S3 as `make run`'s `demo_model --s3` does (`migrate` is not among them: the SQLite pass copies
  the database the session migrated once, `migrated_sqlite`, as the PostgreSQL pass uses
  pytest-django's test database, so neither pass searches `migrate`'s own output);
- gunicorn with config/gunicorn.conf.py (one sync worker), what production runs. Its access log
  ("-", stdout) prints every request line, query string included, which Django's own logs never do;
- `manage.py runserver`, what `make run` serves with. Its request lines are Django's
  `django.server` records, through the project's JSON formatter;
- a real Celery worker with beat (`worker --beat --pool=solo`, as `make run` starts it): the
  webhook deliveries, the inference check that sends its owner's API token, and the AWS check.

All of them run with LOG_FORMAT=json and LOG_LEVEL=DEBUG (the root logger, so the project's
loggers and every library's: botocore and urllib3 print requests at DEBUG), gunicorn with
`--log-level debug`, the worker with `--loglevel=DEBUG`. Settings are `config.settings.local`
(make run's: production's refuse an http webhook receiver and need collected static files). On
SQLite (`make test`'s first pass) the processes share a file database and make run's filesystem
broker; in the PostgreSQL pass, pytest-django's test database and Redis database 13 (the suite
uses 15, the worker-kill test 14), flushed before and after.

AWS is the session's moto server. Its keys (made up here, the access key id AKIA-shaped) reach the
processes through the environment only, as boto3's standard chain reads them. The AWS environment
is made in the admin, as the product allows, with a role to assume, so the worker and the web
process also hold temporary credentials from STS that nobody typed.

The scenario, against each web server in turn:
- pages: a failed log-in (wrong password), a log-in, a POST without its CSRF token (the right
  password in its body);
- the API token by password, as JSON and as a form, and a wrong password there too;
- the token in `Authorization: Token` on the API and `Bearer` on /v2 (metadata, a prediction);
  in a query string (`?token=`, `?access_token=`); HTTP basic auth with the password; a wrong token;
- an operation, a viewer member (the viewer's token gets a 403 on the webhooks), a webhook made on
  the sharing page and one by the API, both secrets captured from the one response that shows
  them, to a local receiver whose URL path is itself a secret; a notification channel (Apprise's
  `json://`) to the same receiver with a password in its URL; a blocker that makes all three send;
  a public link made on the sharing page (shown once), then opened;
- errors: 404s (API and page), a 400 with the token and the password inside a malformed JSON body
  (API and /v2);
- /metrics with METRICS_TOKEN, and with a wrong one;
- an AWS environment in the admin; an inference_endpoint check (the worker hands the owner's
  token to mlservice in process), a VPC attribute check and an ECS diagnosis (the web process),
  both through the role.
The deliveries must verify with their secrets and the checks must pass: the secrets were used.

Then none of these may appear in any captured byte: the passwords (the wrong one too), both API
tokens, every webhook secret, every notification channel's password, the public links' tokens, the
receiver's path token, the session and CSRF cookies, SECRET_KEY, METRICS_TOKEN, the AWS access key
id and secret key, the database and Redis passwords when their URLs have them; each also URL- and
form-encoded, base64 and JSON-escaped, and `user:password` in base64 (basic auth). Nor any
credential AWS hands out (STS's SecretAccessKey and SessionToken, the X-Amz-Security-Token header):
their values are not known here, so their names are looked for with a value after them. A hash or a short prefix of a
secret is fine. So that the test cannot pass by capturing nothing, the logs must hold the run:
JSON records with request ids from both servers and the worker, gunicorn's access lines for the
paths hit, runserver's request lines, the audit lines of the log-ins, the worker's deliveries and
check runs.

Last, `redact` (core/request_id.py) on the forms of credentials the scenario cannot make appear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import boto3
import pytest
import requests
from django.conf import settings
from django.db import connection

from core.request_id import JsonFormatter, RequestIdFilter, json_formatter_options, redact
from tests.conftest import ROOT, database_url, free_port, fresh_database, need_service, wait_for
from tests.host_address import required_host_address

BROKER_DB = 13  # the processes' broker and cache in the PostgreSQL pass; flushed before and after
STEP_TIMEOUT = 60.0  # a bound on each awaited step; a passing run takes a few seconds for each
REQUEST_TIMEOUT = 30
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, where the test's VPC is made
ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}


def new_password() -> str:
    """A password whose URL and form encodings differ from it (space, +, &, =, %, /)."""
    return f"pw {secrets.token_urlsafe(12)}+&=%/{secrets.token_hex(4)}"


# --- the processes ----------------------------------------------------------------------------------


class Processes:
    """Commands run in sessions of their own, the stdout and stderr of each in files of `folder`."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.running: dict[str, subprocess.Popen] = {}
        folder.mkdir()

    def read(self, file: str) -> str:
        return (self.folder / file).read_text(errors="replace")

    def captured(self) -> dict[str, str]:
        return {path.name: path.read_text(errors="replace") for path in sorted(self.folder.iterdir())}

    def output(self) -> str:
        """The end of each file, for a failure's message."""
        return "\n".join(f"--- {name} ---\n{text[-6000:]}" for name, text in self.captured().items())

    def _files(self, name: str):
        return (self.folder / f"{name}.stdout").open("wb"), (self.folder / f"{name}.stderr").open("wb")

    def run(self, name: str, command: list[str], **extra_env: str) -> str:
        out, err = self._files(name)
        with out, err:
            done = subprocess.run(command, cwd=ROOT, env={**self.env, **extra_env}, stdout=out, stderr=err, timeout=180)
        assert done.returncode == 0, f"{name} exited with {done.returncode}\n{self.output()}"
        return (self.folder / f"{name}.stdout").read_text()

    def start(self, name: str, command: list[str]) -> None:
        out, err = self._files(name)
        with out, err:
            self.running[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=err, start_new_session=True
            )

    def alive(self, name: str) -> bool:
        process = self.running[name]
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}\n{self.output()}")
        return True

    def stop_all(self) -> None:
        """SIGTERM to each one's session (gunicorn's workers, beat), so each flushes and exits."""
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


# --- the webhook receiver ---------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A local webhook receiver; its URLs hold a path token of their own (a receiver's secret)."""

    def __init__(self) -> None:
        self.path_token = secrets.token_urlsafe(24)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        # This host's network address, not loopback: the worker's webhooks never reach loopback, and
        # WEBHOOK_ALLOW_PRIVATE_TARGETS lets them reach a private address (core.egress).
        self.address = required_host_address()
        self.httpd = ThreadingHTTPServer((self.address, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="webhook-receiver", daemon=True)

    def url(self, name: str) -> str:
        return f"http://{self.address}:{self.httpd.server_address[1]}/hooks/{self.path_token}/{name}"

    def to(self, name: str, event: str | None = None) -> list[Received]:
        with self._lock:
            received = [r for r in self.received if r.path.endswith(f"/{name}")]
        return [r for r in received if event is None or json.loads(r.body)["event"] == event]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


# --- the secrets ------------------------------------------------------------------------------------


@dataclass
class Secrets:
    """Every secret of the run, named; each is looked for in the logs."""

    values: dict[str, str] = field(default_factory=dict)
    basic: list[tuple[str, str]] = field(default_factory=list)  # (user, password) sent as basic auth

    def add(self, name: str, value: str) -> str:
        assert isinstance(value, str) and len(value) >= 8, f"{name} is too short to look for: {value!r}"
        self.values[name] = value
        return value

    def forms(self) -> dict[str, str]:
        """What to look for, each with what it is: every value and its encodings."""
        found: dict[str, str] = {}
        for name, value in self.values.items():
            variants = {
                "": value,
                " (URL-encoded)": quote(value, safe=""),
                " (form-encoded)": quote_plus(value),
                " (base64)": base64.b64encode(value.encode()).decode(),
                " (URL-safe base64)": base64.urlsafe_b64encode(value.encode()).decode(),
                " (JSON-escaped)": json.dumps(value)[1:-1],
            }
            for suffix, form in variants.items():
                found.setdefault(form, name + suffix)
        for user, password in self.basic:
            found.setdefault(base64.b64encode(f"{user}:{password}".encode()).decode(), f"basic auth of {user}")
        return found


# Credentials AWS hands out (STS's answer, an assumed role's requests), whose values nobody knows
# beforehand: the name, then a value (`[redacted]` is none).
AWS_ISSUED = re.compile(
    r"(SecretAccessKey|SessionToken|X-Amz-Security-Token|aws_secret_access_key|aws_session_token)"
    r"""(?:>|['"]?\s*[:=]\s*(?:b?['"])?)[A-Za-z0-9/+=]{16,}""",
    re.IGNORECASE,
)


# --- the environment --------------------------------------------------------------------------------


@dataclass
class Run:
    processes: Processes
    secrets: Secrets


@pytest.fixture
def run(tmp_path, moto_server, transactional_db, request) -> Iterator[Run]:
    """The processes' environment, and the secrets in it; every process is stopped at the end."""
    found = Secrets()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DJANGO_", "PYTEST", "CELERY_", "PROMETHEUS_", "GUNICORN_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "LOG_FORMAT", "METRICS_TOKEN")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_SECRET_KEY": found.add("SECRET_KEY", secrets.token_urlsafe(50)),
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "METRICS_TOKEN": found.add("METRICS_TOKEN", secrets.token_urlsafe(32)),
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "CHECK_DISPATCH_SECONDS": "1",
        "API_LOGIN_RATE": "1000/min",
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": found.add("AWS access key id", "AKIA" + secrets.token_hex(8).upper()),
        "AWS_SECRET_ACCESS_KEY": found.add("AWS secret access key", secrets.token_urlsafe(30)),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(env, tmp_path / "logs")

    def flush() -> None:
        pass

    if connection.vendor == "postgresql":
        configured = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
        need_service(configured, 6379, "Redis")
        broker = urlunsplit(urlsplit(configured)._replace(path=f"/{BROKER_DB}"))
        import redis

        def flush() -> None:
            client = redis.Redis.from_url(broker)
            client.flushdb()
            client.close()

        flush()
        env |= {"DATABASE_URL": database_url(), "REDIS_URL": broker}
        for what, value in (
            ("database", connection.settings_dict.get("PASSWORD")),
            ("Redis", urlsplit(broker).password),
        ):
            if value:
                found.add(f"{what} password", value)
    else:  # the deployment's `migrate`, as the PostgreSQL pass's test database: done once per run
        fresh_database(request.getfixturevalue("migrated_sqlite"), tmp_path / "var")
    try:
        yield Run(processes, found)
    finally:
        processes.stop_all()
        flush()


SETUP = """
import os
from django.contrib.auth import get_user_model
from django.core.management import call_command
User = get_user_model()
from tracker.models import Workspace, WorkspaceMembership
owner = User.objects.create_superuser("owner", "", os.environ["OWNER_PASSWORD"])
viewer = User.objects.create_user("viewer", "", os.environ["VIEWER_PASSWORD"])
team = Workspace.objects.create(name="Team", slug="team")
for user, role in ((owner, "admin"), (viewer, "member")):
    WorkspaceMembership.objects.create(workspace=team, user=user, role=role)
call_command("demo_model", "--s3", "--workspace", "team")
"""


# --- the scenario -----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    base: str
    slug: str = ""
    hooks: dict[str, str] = field(default_factory=dict)  # the receiver's name for it -> its secret
    channels: dict[str, str] = field(default_factory=dict)  # the receiver's name for it -> its password


def csrf(session: requests.Session) -> str:
    return session.cookies["csrftoken"]


def shown_once(page: str, notice: str) -> str:
    """The secret in the notice that shows it once (its `<code class="secret" ...>`), never a
    `<code class="secret">` further down the page (the webhooks' URLs are in those too)."""
    match = re.search(re.escape(notice) + r'(?:(?!</div>).)*?<code class="secret"[^>]*>([^<]+)</code>', page, re.S)
    assert match, f"no {notice!r} on the page"
    return match.group(1)


def scenario(server: Server, found: Secrets, passwords: dict[str, str], receiver: Receiver, vpc_id: str) -> None:
    base, name, timeout = server.base, server.name, REQUEST_TIMEOUT
    owner_password = passwords["owner"]

    # Pages: a failed log-in, a log-in, a POST without its CSRF token.
    browser = requests.Session()
    assert browser.get(f"{base}/accounts/login/", timeout=timeout).status_code == 200
    wrong = {"username": "owner", "password": passwords["wrong"], "csrfmiddlewaretoken": csrf(browser)}
    failed = browser.post(f"{base}/accounts/login/", data=wrong, timeout=timeout)
    assert failed.status_code == 200 and "do not match" in failed.text
    right = {"username": "owner", "password": owner_password, "csrfmiddlewaretoken": csrf(browser)}
    assert (
        browser.post(f"{base}/accounts/login/", data=right, allow_redirects=False, timeout=timeout).status_code == 302
    )
    found.add(f"session cookie ({name})", browser.cookies["sessionid"])
    found.add(f"CSRF cookie ({name})", csrf(browser))
    no_csrf = {"username": "owner", "password": owner_password}
    assert requests.post(f"{base}/accounts/login/", data=no_csrf, timeout=timeout).status_code == 403

    # The API token by password: JSON, a wrong password, and a form (the viewer's).
    token_url = f"{base}/api/auth/token/"
    key = requests.post(token_url, json={"username": "owner", "password": owner_password}, timeout=timeout)
    key = found.add("owner's API token", key.json()["token"])
    refused = requests.post(token_url, json={"username": "owner", "password": passwords["wrong"]}, timeout=timeout)
    assert refused.status_code == 400
    viewer_key = requests.post(token_url, data={"username": "viewer", "password": passwords["viewer"]}, timeout=timeout)
    viewer_key = found.add("viewer's API token", viewer_key.json()["token"])
    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"

    # The API with the token: an operation, a viewer member, a webhook (its secret shown once).
    created = api.post(f"{base}/api/operations/", json={"name": f"No secrets logged {name}"}, timeout=timeout)
    assert created.status_code == 201, created.text
    server.slug = created.json()["slug"]
    operation = f"{base}/api/operations/{server.slug}"
    member = api.post(f"{operation}/members/", json={"username": "viewer", "role": "viewer"}, timeout=timeout)
    assert member.status_code == 201, member.text
    hook = api.post(f"{operation}/webhooks/", json={"url": receiver.url(f"{name}-api")}, timeout=timeout)
    assert hook.status_code == 201, hook.text
    server.hooks[f"{name}-api"] = found.add(f"webhook secret ({name}, API)", hook.json()["secret"])

    # The sharing page: a webhook and a public link, each shown once on the next page.
    sharing = f"{base}/operations/{server.slug}/sharing"
    made = {"url": receiver.url(f"{name}-page"), "label": "page", "csrfmiddlewaretoken": csrf(browser)}
    page = browser.post(f"{sharing}/webhooks/", data=made, timeout=timeout)
    assert page.status_code == 200, page.text
    secret = shown_once(page.text, "Copy the secret of")
    server.hooks[f"{name}-page"] = found.add(f"webhook secret ({name}, page)", secret)
    page = browser.post(f"{sharing}/links/", data={"label": "x", "csrfmiddlewaretoken": csrf(browser)}, timeout=timeout)
    link = shown_once(page.text, "Copy this link now")
    found.add(f"public link token ({name})", urlsplit(link).path.split("/")[2])
    public = requests.get(link, timeout=timeout)
    assert public.status_code == 200 and f"No secrets logged {name}" in public.text
    # A notification channel (Apprise's json://) whose URL holds a password, made on its page: the
    # worker sends it the blocker below, with the password as HTTP basic auth (checked later).
    password = found.add(f"notification channel password ({name})", secrets.token_urlsafe(18))
    channel_url = receiver.url(f"{name}-notify").replace("http://", f"json://bot:{password}@", 1)
    made = {"url": channel_url, "label": "bot", "flap_runs": 2, "flap_minutes": 0, "slip_days": 3}
    page = browser.post(
        f"{base}/operations/{server.slug}/notifications/",
        data={**made, "csrfmiddlewaretoken": csrf(browser)},
        timeout=timeout,
    )
    assert page.status_code == 200 and password not in page.text, page.text
    server.channels[f"{name}-notify"] = password

    # A change that is an event: both webhooks deliver it (checked later, with their secrets).
    blocker = api.post(f"{operation}/blockers/", json={"title": "A blocker to announce"}, timeout=timeout)
    assert blocker.status_code == 201, blocker.text

    # Inference with the token, as `Token` and as `Bearer`.
    metadata = api.get(f"{base}/v2/models/iris", timeout=timeout)
    assert metadata.status_code == 200, metadata.text
    bearer = {"Authorization": f"Bearer {key}"}
    predicted = requests.post(f"{base}/v2/models/iris/infer", json=ROW, headers=bearer, timeout=timeout)
    assert predicted.status_code == 200 and predicted.json()["outputs"][0]["data"] == [0], predicted.text

    # The token where it does not belong, basic auth, wrong tokens, and errors.
    for url in (f"{base}/api/operations/?token={key}", f"{base}/v2/models/iris?access_token={key}&token={key}"):
        assert requests.get(url, timeout=timeout).status_code == 401
    assert requests.get(f"{base}/api/operations/", auth=("owner", owner_password), timeout=timeout).status_code == 401
    found.basic.append(("owner", owner_password))
    wrong_token = {"Authorization": f"Token {secrets.token_hex(20)}"}
    assert requests.get(f"{base}/api/operations/", headers=wrong_token, timeout=timeout).status_code == 401
    refused = requests.post(f"{base}/v2/models/iris/infer", json=ROW, headers=wrong_token, timeout=timeout)
    assert refused.status_code == 401
    viewer = {"Authorization": f"Token {viewer_key}"}
    assert requests.get(f"{operation}/webhooks/", headers=viewer, timeout=timeout).status_code == 403
    assert api.get(f"{base}/api/operations/no-such-operation/", timeout=timeout).status_code == 404
    assert browser.get(f"{base}/no/such/page/", timeout=timeout).status_code == 404
    malformed = f'{{"name": "{key}", "password": "{owner_password}"'.encode()
    as_json = {"Content-Type": "application/json"}
    assert api.post(f"{base}/api/operations/", data=malformed, headers=as_json, timeout=timeout).status_code == 400
    broken = requests.post(f"{base}/v2/models/iris/infer", data=malformed, headers=bearer | as_json, timeout=timeout)
    assert broken.status_code == 400

    # /metrics with METRICS_TOKEN, and with a wrong one.
    scraper = {"Authorization": f"Bearer {found.values['METRICS_TOKEN']}"}
    scraped = requests.get(f"{base}/metrics", headers=scraper, timeout=timeout)
    assert scraped.status_code == 200 and "snailtrail" in scraped.text
    wrong_bearer = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    assert requests.get(f"{base}/metrics", headers=wrong_bearer, timeout=timeout).status_code == 403

    # An AWS environment, as the product makes one: in the admin, with a role to assume, in the team.
    page = browser.get(f"{base}/admin/ops/awsenvironment/add/", timeout=timeout).text
    team = re.search(r'<option value="(\d+)"[^>]*>Team</option>', page).group(1)
    form = {
        "workspace": team,
        "name": f"moto {name}",
        "account_id": ACCOUNT,
        "regions": json.dumps([REGION]),
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/snailtrail-readonly",
        "external_id": "",
        "_save": "Save",
        "csrfmiddlewaretoken": csrf(browser),
    }
    added = browser.post(f"{base}/admin/ops/awsenvironment/add/", data=form, allow_redirects=False, timeout=timeout)
    assert added.status_code == 302, added.text
    environments = api.get(f"{base}/api/aws-environments/", timeout=timeout).json()["results"]
    environment = next(e["id"] for e in environments if e["name"] == f"moto {name}")

    # Checks for the worker: the model (served here, so asked in process with the owner's token:
    # this app's own address is loopback, which no check reaches) and a VPC's attribute.
    for check in (
        {
            "name": "iris answers",
            "type": "inference_endpoint",
            # A generous latency bound: the check's request may meet a worker that loads the model.
            "params": {"model": "iris", "max_latency_ms": 30000},
            "expected": True,
        },
        {
            "name": "VPC DNS support",
            "type": "vpc_attribute",
            "environment": environment,
            "region": REGION,
            "params": {"vpc_id": vpc_id, "attribute": "enableDnsSupport"},
            "expected": True,
        },
    ):
        made = api.post(f"{operation}/checks/", json=check, timeout=timeout)
        assert made.status_code == 201, made.text

    # The web process calls AWS itself too, through the role.
    diagnosis = {"environment": environment, "region": REGION, "cluster": "nowhere", "service": "none", "port": 80}
    walked = api.post(f"{operation}/diagnose-ecs/", json=diagnosis, timeout=timeout)
    assert walked.status_code == 200, walked.text


# --- the test ---------------------------------------------------------------------------------------


def json_records(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


@pytest.mark.django_db(transaction=True)
def test_no_secret_appears_in_the_logs_of_a_full_run(run, receiver, moto_server):
    processes, found, python = run.processes, run.secrets, sys.executable
    passwords = {who: found.add(f"{who} password", new_password()) for who in ("owner", "viewer", "wrong")}
    found.add("webhook receiver's path token", receiver.path_token)
    users = {"OWNER_PASSWORD": passwords["owner"], "VIEWER_PASSWORD": passwords["viewer"]}
    processes.run("setup", [python, "manage.py", "shell", "-c", SETUP], **users)
    ec2 = boto3.client(
        "ec2", endpoint_url=moto_server, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]

    gunicorn = Server("gunicorn", f"http://127.0.0.1:{free_port()}")
    runserver = Server("runserver", f"http://127.0.0.1:{free_port()}")
    servers = [gunicorn, runserver]
    processes.start(
        "gunicorn",
        [python, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "--workers", "1", "--log-level", "debug"]
        + ["--bind", gunicorn.base.removeprefix("http://"), "config.wsgi:application"],
    )
    processes.start(
        "runserver", [python, "manage.py", "runserver", "--noreload", runserver.base.removeprefix("http://")]
    )
    processes.start(
        "worker", [python, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo", "--loglevel=DEBUG"]
    )
    logs = processes.output
    for server in servers:
        wait_for(
            f"{server.name} to answer",
            lambda s=server: processes.alive(s.name) and answers(f"{s.base}/healthz"),
            STEP_TIMEOUT,
            logs,
        )
    ready = re.compile(r"celery@\S+ ready\.")
    wait_for(
        "the worker",
        lambda: processes.alive("worker") and ready.search(processes.read("worker.stderr")),
        STEP_TIMEOUT,
        logs,
    )

    for server in servers:
        scenario(server, found, passwords, receiver, vpc_id)

    # The worker delivers both webhooks of each operation, signed with their secrets ...
    for server in servers:
        for hook, secret in server.hooks.items():
            wait_for(
                f"the blocker's delivery to {hook}",
                lambda h=hook: processes.alive("worker") and receiver.to(h, "blocker.opened"),
                STEP_TIMEOUT,
                logs,
            )
            for delivery in receiver.to(hook):  # the checks' first verdicts are events too
                signature = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
                assert delivery.headers["X-SnailTrail-Signature"] == signature
    # ... sends the notification channels the blocker, with their passwords ...
    for server in servers:
        for channel, password in server.channels.items():
            [notified, *_] = wait_for(
                f"the blocker's notification to {channel}",
                lambda c=channel: processes.alive("worker") and receiver.to(c),
                STEP_TIMEOUT,
                logs,
            )
            assert notified.headers["Authorization"] == "Basic " + base64.b64encode(f"bot:{password}".encode()).decode()
    # ... and runs the checks: the model answered the owner's token, AWS the role's credentials.
    owner = {"Authorization": "Token " + found.values["owner's API token"]}
    for server in servers:

        def statuses(s: Server = server) -> dict[str, str] | None:
            processes.alive("worker")
            url = f"{s.base}/api/operations/{s.slug}/checks/"
            listed = requests.get(url, headers=owner, timeout=REQUEST_TIMEOUT).json()["results"]
            return None if any(c["status"] == "pending" for c in listed) else {c["name"]: c for c in listed}

        checks = wait_for(f"the worker to run {server.name}'s checks", statuses, STEP_TIMEOUT, logs)
        assert {n: c["status"] for n, c in checks.items()} == {"iris answers": "pass", "VPC DNS support": "pass"}, (
            checks
        )

    processes.stop_all()
    captured = processes.captured()

    # No secret, in any form, in anything a process printed.
    leaks = []
    for form, what in found.forms().items():
        for file, text in captured.items():
            if form in text:
                line = next(line for line in text.splitlines() if form in line)
                leaks.append(f"{what} in {file}: {line[:500]}")
    for file, text in captured.items():
        for match in AWS_ISSUED.finditer(text):
            leaks.append(f"an AWS-issued credential in {file}: {text[max(0, match.start() - 200) : match.end()]}")
    assert not leaks, "secrets in the logs:\n" + "\n".join(leaks)

    # The logs are there, and hold the run.
    lines = sum(len(text.splitlines()) for text in captured.values())
    records = {file: json_records(text) for file, text in captured.items()}
    with_ids = {file: sum(1 for r in found_in if r.get("request_id")) for file, found_in in records.items()}
    print(
        f"{lines} lines checked, {sum(map(len, records.values()))} of them JSON records; with a request id: {with_ids}"
    )
    assert lines > 500
    for file in ("gunicorn.stderr", "runserver.stderr", "worker.stderr"):  # the worker's: its tasks' ids
        assert with_ids[file] >= 10, (file, with_ids)
    access = captured["gunicorn.stdout"]
    for request_line in (
        '"POST /accounts/login/ HTTP/1.1" 302',
        '"POST /api/auth/token/ HTTP/1.1" 200',
        '"GET /api/operations/?token=[redacted] HTTP/1.1" 401',
        '"POST /v2/models/iris/infer HTTP/1.1" 200',
        '"GET /p/[redacted]/ HTTP/1.1" 200',
        '"GET /metrics HTTP/1.1" 200',
        '"GET /metrics HTTP/1.1" 403',
        '"GET /no/such/page/ HTTP/1.1" 404',
        '"POST /api/operations/ HTTP/1.1" 400',
    ):
        assert request_line in access, request_line
    served = [r["message"] for r in records["runserver.stderr"] if r.get("logger") == "django.server"]
    assert any('"POST /api/auth/token/ HTTP/1.1" 200' in message for message in served), served
    audit = [r["message"] for found_in in records.values() for r in found_in if r.get("logger") == "snailtrail.audit"]
    assert audit.count("audit login_failed by owner") >= 4 and audit.count("audit login by owner") >= 2, audit
    worker = [r["message"] for r in records["worker.stderr"]]
    assert sum("succeeded after 1 attempt(s)" in message for message in worker) >= 4
    assert any(message.startswith("Task ops.tasks.run_check_group[") for message in worker)


# --- the redaction itself, on what the scenario cannot make appear ---------------------------------------


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("Cookie: sessionid=abc123; csrftoken=def", "Cookie: [redacted]"),
        ("{'Set-Cookie': 'sessionid=abcdefgh; HttpOnly'}", "{'Set-Cookie': '[redacted]'}"),
        ("Authorization: Basic b3duZXI6cGFzc3dvcmQxMjM0NQ==", "Authorization: [redacted]"),
        ("sent Bearer abcdefghijklmnopqrstuvwxyz", "sent Bearer [redacted]"),
        ('{"password": "hunter2 \\" x", "user": "bob"}', '{"password": "[redacted]", "user": "bob"}'),
        ("username=owner&password=pw+x%26y&next=/", "username=owner&password=[redacted]&next=/"),
        (
            '{"Credentials": {"AccessKeyId": "ASIAABCDEFGHIJKLMNOP", "SecretAccessKey": "a/b+c", "Expiration": 1}}',
            '{"Credentials": {"AccessKeyId": "[redacted]", "SecretAccessKey": "[redacted]", "Expiration": 1}}',
        ),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F2026&X-Amz-Signature=abc123&v=1",
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&v=1",
        ),
        ("key AKIAABCDEFGHIJKLMNOP in a message", "key AKIA[redacted] in a message"),
        ("redis://:s3cr3t@cache:6379/0 is down", "redis://:[redacted]@cache:6379/0 is down"),
        ("postgres://snail:pa55@db/snailtrail", "postgres://snail:[redacted]@db/snailtrail"),
        # Nothing to redact: left as it is.
        ("Forbidden (CSRF cookie not set.): /accounts/login/", "Forbidden (CSRF cookie not set.): /accounts/login/"),
        ('"GET /api/auth/token/ HTTP/1.1" 200 52', '"GET /api/auth/token/ HTTP/1.1" 200 52'),
        ("http://127.0.0.1:8000/p/short/ key=value", "http://127.0.0.1:8000/p/short/ key=value"),
    ],
)
def test_redact(line, redacted):
    assert redact(line) == redacted


def test_a_traceback_and_extra_fields_are_redacted_in_both_formats():
    key = secrets.token_hex(20)
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)
    plain.setFormatter(logging.Formatter("%(message)s"))
    as_json = logging.StreamHandler(stream)
    as_json.setFormatter(JsonFormatter(**json_formatter_options(settings.LOGGING)))
    logger = logging.getLogger("tests.no_secrets_logged")
    for handler in (plain, as_json):
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"GET /x?token={key}")
        except ValueError:
            logger.exception("sent Authorization: Token %s", key, extra={"sent": {"token": key}})
    finally:
        for handler in (plain, as_json):
            logger.removeHandler(handler)
    text = stream.getvalue()
    assert key not in text
    assert text.count("ValueError: GET /x?token=[redacted]") == 2  # the plain line's traceback, the JSON one's
    assert text.count("sent Authorization: [redacted]") == 2 and '"sent": {"token": "[redacted]"}' in text
