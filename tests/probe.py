"""Python run in a fresh interpreter, with the suite's settings: what a process imports as it
starts, or does as it exits, can only be seen from outside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, *args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """`python -c code *args` from the repository's root; `env` adds variables, or removes those set to None."""
    environment = dict(os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def printed_json(done: subprocess.CompletedProcess) -> Any:
    """The JSON the probe printed on its last line, once it has exited cleanly."""
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
