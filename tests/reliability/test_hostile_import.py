"""Two hostile imports at once under a real gunicorn, and /healthz keeps answering (issue #14).

The document is the one of the issue: a valid tracker header, then `-` and a line break a million
times (2.0 MB), which parsed for 61 s and grew the worker by 200 MB. gunicorn runs as deployed
(config/gunicorn.conf.py, sync workers) with two workers, so the two imports, sent together, take
every worker there is: /healthz can only answer between them, which it does only if each import is
refused quickly. Each probe has a timeout of a second: a bound on a wait, not a benchmark.

Runs in the PostgreSQL pass only, as every test of a real gunicorn does (tests/reliability/harness.py):
its processes cannot share SQLite's in-memory test database.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.reliability.harness import Gunicorn, gunicorn
from tracker.models import Operation

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADER = EXAMPLE.read_text(encoding="utf-8").split("## 📊")[0]
DOCUMENT = (HEADER + "-\n" * 1_000_000).encode()
PROBE_TIMEOUT = 1.0  # seconds each /healthz probe may take
ANSWER_TIMEOUT = 30.0  # seconds an import may take to answer at all (gunicorn's own timeout is 60)


@pytest.fixture
def server(postgres, tmp_path: Path) -> Iterator[Gunicorn]:
    with gunicorn(tmp_path, GUNICORN_WORKERS="2") as served:
        yield served


def post_document(port: int, token: str) -> tuple[int, dict, float]:
    """The import's status, its body, and the seconds from sending to the whole answer (reported,
    with -s, for docs/benchmarks.md: never asserted, the machine is shared)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_TIMEOUT)
    started = time.monotonic()
    try:
        headers = {"Content-Type": "text/markdown", "Authorization": f"Token {token}"}
        connection.request("POST", "/api/operations/import/", body=DOCUMENT, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read()), time.monotonic() - started
    finally:
        connection.close()


def probe(port: int) -> int | str:
    """/healthz's status, or what went wrong when it did not answer within PROBE_TIMEOUT."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def test_two_hostile_imports_at_once_leave_healthz_answering(server, token):
    answers: list[tuple[int, dict, float]] = []
    imports = [
        threading.Thread(target=lambda: answers.append(post_document(server.port, token)), name=f"import-{n}")
        for n in range(2)
    ]
    for thread in imports:
        thread.start()
    probes = []
    while any(thread.is_alive() for thread in imports) or len(probes) < 10:
        probes.append(probe(server.port))
        time.sleep(0.02)
    for thread in imports:
        thread.join(timeout=ANSWER_TIMEOUT)

    assert probes and all(status == 200 for status in probes), f"{probes}\n{server.output()[-3000:]}"
    assert len(answers) == 2, server.output()[-3000:]
    lines = DOCUMENT.count(b"\n")
    print(f"two 2.0 MB hostile imports at once: answered in {', '.join(f'{a[2]:.2f} s' for a in answers)}")
    for status, body, _seconds in answers:
        assert status == 400
        assert body == {
            "error": "The document does not import: 1 problem.",
            "problems": [
                {"line": 1, "message": f"the document has {lines:,} lines; the limit is 20,000 (TRACKER_MAX_LINES)"}
            ],
        }
    assert not Operation.objects.exists()
