"""Django on a throwaway database, for the benchmarks: a temporary SQLite file by default, or a
test database created (and afterwards dropped) on the server that `database_url` names."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database(database_url: str = "") -> Callable[[], None]:
    """Set Django up on a fresh database; return the function that throws it away."""
    workdir = tempfile.mkdtemp(prefix="snailtrail-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False, aliases=["default"]) if database_url else None
    if not database_url:
        call_command("migrate", verbosity=0)

    def cleanup() -> None:
        if databases:
            teardown_databases(databases, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)

    return cleanup
