"""Run modes: the embedded default needs no server; DATABASE_URL and REDIS_URL switch to real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def run_python(code: str, tmp_path: Path, **env: str) -> str:
    """Run `code` in a fresh interpreter with Django set up under the given environment."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "SNAILTRAIL_VAR_DIR": str(tmp_path / "var")}
    environment |= env
    prelude = "import django, json; django.setup(); from django.conf import settings\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_default_database_is_a_sqlite_file_in_wal_mode(tmp_path: Path):
    out = run_python(
        "from django.db import connection\n"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode')\n"
        "print(json.dumps([connection.vendor, str(settings.DATABASES['default']['NAME']), cursor.fetchone()[0]]))",
        tmp_path,
    )

    assert json.loads(out) == ["sqlite", str(tmp_path / "var" / "snailtrail.sqlite3"), "wal"]


def test_the_embedded_default_needs_no_redis(tmp_path: Path):
    out = run_python(
        "print(json.dumps([settings.CACHES['default']['BACKEND'], settings.CELERY_BROKER_URL]))\n"
        "from config.celery_app import app\n"
        "app.send_task('tracker.ping')\n"
        "import os; print(len(os.listdir(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_out'])))",
        tmp_path,
    )
    backends, queued = out.splitlines()

    assert json.loads(backends) == ["django.core.cache.backends.locmem.LocMemCache", "filesystem://"]
    assert queued == "1"  # the message waits in a file for a worker, no server involved


def test_database_url_selects_postgresql(tmp_path: Path):
    out = run_python(
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'],"
        " settings.DATABASES['default']['HOST']]))",
        tmp_path,
        DATABASE_URL="postgres://postgres@db.internal:5432/snailtrail",
    )

    assert json.loads(out) == ["django.db.backends.postgresql", "snailtrail", "db.internal"]


def test_redis_url_selects_the_broker_and_the_cache(tmp_path: Path):
    out = run_python(
        "print(json.dumps([settings.CACHES['default']['BACKEND'], settings.CELERY_BROKER_URL]))",
        tmp_path,
        REDIS_URL="redis://cache.internal:6379/0",
    )

    assert json.loads(out) == ["django.core.cache.backends.redis.RedisCache", "redis://cache.internal:6379/0"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path):
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_ALLOWED_HOSTS": "example.org"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_redis_answers_as_a_cache_and_a_broker(redis_url: str, tmp_path: Path):
    out = run_python(
        "from django.core.cache import cache\n"
        "cache.set('snailtrail-settings-test', 'ok', 10)\n"
        "from config.celery_app import app\n"
        "with app.connection_for_write() as conn: conn.ensure_connection(max_retries=1)\n"
        "print(cache.get('snailtrail-settings-test'))",
        tmp_path,
        REDIS_URL=redis_url,
    )

    assert out == "ok"


@pytest.mark.postgres
def test_the_postgresql_pass_really_runs_on_postgresql():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in make test's PostgreSQL pass (DATABASE_URL=postgres://...)")

    assert connection.vendor == "postgresql"


def test_passwords_are_hashed_with_argon2(tmp_path: Path):
    out = run_python(
        "from django.contrib.auth.hashers import make_password\nprint(make_password('correct horse battery'))",
        tmp_path,
    )

    assert out.startswith("argon2$")
