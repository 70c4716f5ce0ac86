"""Fixtures of the reliability tests (helpers are in harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from tests.reliability.harness import SlowServer


@pytest.fixture
def postgres(transactional_db) -> None:
    """Worker processes need a database they can share with the test: PostgreSQL's, not SQLite's in memory."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share SQLite's in-memory test database: runs in the PostgreSQL pass")


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    server = SlowServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
