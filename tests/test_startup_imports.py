"""Commands start at once (issue #18): scikit-learn and skops are imported only where a model is
registered or served, never by `import config.wsgi` (gunicorn's master, before any worker serves)
or by `manage.py check` (which imports every URLconf, view and admin module).

One subprocess for both, with the suite's settings: a fresh interpreter is the only honest count
of what an import pulls in. bench/startup.py measures what that saves in CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
HEAVY = ("sklearn", "skops")
def heavy():
    return sorted({name.split(".")[0] for name in sys.modules if name.split(".")[0] in HEAVY})
import config.wsgi
after_wsgi = heavy()
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check"])
print(json.dumps({"wsgi": after_wsgi, "check": heavy()}))
"""


def test_it_imports_neither_scikit_learn_nor_skops_to_start():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"wsgi": [], "check": []}, f"imported at startup: {found}"
