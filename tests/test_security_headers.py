"""Browser security headers on every kind of response, in every mode, and production's https-only ones.

The Content Security Policy (django-csp's, config/settings/base.py; sent by core.csp, which builds
each policy once: tests/test_middleware_cost.py holds its headers to django-csp's own) is on in
every mode, so the whole suite renders the real pages under it; tests/browser/test_csp.py checks
in Chromium that nothing on them is refused.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import ROOT, logged_in

REQUIRED_DIRECTIVES = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
TEMPLATE_DIRS = [ROOT / "templates", *(ROOT / app / "templates" for app in ("tracker", "ops", "mlservice"))]


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_hardened(response) -> dict[str, list[str]]:
    """The headers every response carries; returns the parsed Content Security Policy."""
    csp = policy(response["Content-Security-Policy"])
    for name, sources in REQUIRED_DIRECTIVES.items():
        assert csp.get(name) == sources, (name, response["Content-Security-Policy"])
    scripts = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert not any(source.startswith(("'nonce-", "'sha")) for source in scripts)  # only files of ours
    assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"])
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    return csp


# --- every kind of response -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.django_db
def test_the_dashboard_of_an_imported_operation(client, team, owner):
    response = logged_in(client, owner).get(team.get_absolute_url())

    assert response.status_code == 200
    assert b'id="chart-data"' in response.content  # the page with its charts, not a redirect
    assert_hardened(response)


@pytest.mark.django_db
def test_an_api_response(client, team, owner):
    response = logged_in(client, owner).get("/api/operations/")

    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.django_db
def test_an_api_response_to_a_token_which_has_no_session(client, team, token):
    response = client.get("/api/operations/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200 and not hasattr(response.wsgi_request, "session")
    assert_hardened(response)


@pytest.mark.django_db
def test_the_metrics_which_have_no_session(client):
    response = client.get("/metrics")

    assert response.status_code == 200 and not hasattr(response.wsgi_request, "session")
    assert_hardened(response)


@pytest.mark.django_db
def test_an_inference_route(client):
    response = client.get("/v2/health/live")

    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.django_db
def test_a_404_under_the_api(client, owner):
    response = logged_in(client, owner).get("/api/no-such-thing/")

    assert response.status_code == 404 and response.json() == {"error": "Not found."}
    assert_hardened(response)


@pytest.mark.django_db
def test_a_404_page(client, owner):
    response = logged_in(client, owner).get("/no-such-page/")

    assert response.status_code == 404
    assert_hardened(response)


def test_the_health_probes(client):
    assert_hardened(client.get("/healthz"))


@pytest.mark.django_db
def test_the_api_docs_only_add_data_images(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    csp = assert_hardened(response)
    assert csp["img-src"] == ["'self'", "data:"]  # swagger-ui.css draws its icons as data: SVGs
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    script = client.get(reverse("api-docs") + "?script=")  # Swagger UI's start-up, as a file
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


# --- nothing inline for the policy to refuse ----------------------------------------------------------

INLINE = {
    # A <script> without src, other than a json_script data block (type="application/json").
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    return [f"{what}: {match.group(0)[:80]}" for what, pattern in INLINE.items() for match in pattern.finditer(html)]


@pytest.mark.parametrize(
    "path", sorted({p for d in TEMPLATE_DIRS for p in d.rglob("*.html")}), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_template_has_inline_code(path: Path):
    assert inline_code(path.read_text()) == []


@pytest.mark.django_db
def test_the_rendered_pages_have_no_inline_code(client, team, owner):
    client = logged_in(client, owner)
    pages = [
        team.get_absolute_url(),
        reverse("tracker:operation-list"),
        reverse("tracker:sharing", args=[team.slug]),
        reverse("tracker:import"),
        reverse("ops:checks", args=[team.slug]),
        reverse("api-docs"),
        "/no-such-page/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert inline_code(response.content.decode()) == [], url
    client.logout()
    assert inline_code(client.get(reverse("login")).content.decode()) == []


# --- production -------------------------------------------------------------------------------------


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The documented production environment: a strong random key, the hosts, PostgreSQL and Redis."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    return environment | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "snailtrail.example.org",
        "DATABASE_URL": "postgres://snail:db-password@db.internal:5432/snailtrail",
        "REDIS_URL": "redis://:redis-password@redis.internal:6379/0",
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


def test_the_deployment_checklist_passes_in_production(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Runs in `manage.py shell` under production settings: a request through the TLS proxy
# (X-Forwarded-Proto: https) to the login page, a login, and a plain-http request.
RENDER = """
import json, os
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

settings.STATIC_ROOT = os.path.join(os.environ["SNAILTRAIL_VAR_DIR"], "static")  # the pages need the manifest
call_command("collectstatic", "--noinput", verbosity=0)
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("owner", password="owner-password")
proxied = Client(HTTP_HOST="snailtrail.example.org", HTTP_X_FORWARDED_PROTO="https")
page = proxied.get("/accounts/login/")
login = proxied.post("/accounts/login/", {"username": "owner", "password": "owner-password"})
plain = Client(HTTP_HOST="snailtrail.example.org").get("/accounts/login/")

def cookie(response, name):
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}

print(json.dumps({
    "status": page.status_code,
    "headers": {name: page.get(name) for name in (
        "Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options",
        "Referrer-Policy", "X-Frame-Options")},
    "csrf_cookie": cookie(page, "csrftoken"),
    "login": login.status_code,
    "session_cookie": cookie(login, "sessionid"),
    "plain": [plain.status_code, plain.get("Location")],
}))
"""


def test_production_sends_hsts_secure_cookies_and_the_csp(tmp_path: Path):
    # Not PostgreSQL: the request needs a database with a user in it, which a file gives.
    env = production_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}")
    del env["REDIS_URL"]  # the login throttle counts in the cache: a local one here
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", RENDER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])

    assert out["status"] == 200
    headers = out["headers"]
    hsts = [part.strip() for part in headers["Strict-Transport-Security"].split(";")]
    assert hsts[0] == "max-age=31536000" and "includeSubDomains" in hsts and "preload" in hsts
    csp = policy(headers["Content-Security-Policy"])
    for name, sources in REQUIRED_DIRECTIVES.items():
        assert csp[name] == sources
    assert "'unsafe-inline'" not in csp["script-src"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert out["csrf_cookie"] == {"secure": True, "httponly": True}
    assert out["login"] == 302
    assert out["session_cookie"] == {"secure": True, "httponly": True}
    assert out["plain"] == [301, "https://snailtrail.example.org/accounts/login/"]
