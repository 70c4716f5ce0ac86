"""A process ends without a last garbage collection of everything it imported (config/__init__.py,
issue #18): what it freezes at exit is left to the operating system. What a process does at exit
is otherwise unchanged: every atexit handler runs, logging is flushed, and a file that is only
referenced (not in a cycle) is still closed, so its buffered lines reach the disk.

Each case runs in a fresh interpreter: exit is the one thing a test cannot do in-process.
"""

from __future__ import annotations

from tests.probe import run_python

PROBE = """
import atexit, gc, logging, sys
import django
django.setup()

import config

log_path, file_path = sys.argv[1], sys.argv[2]
logger = logging.getLogger("exit-probe")
logger.propagate = False
logger.addHandler(logging.FileHandler(log_path))
logger.setLevel(logging.INFO)
logger.info("logged before exit")
buffered = open(file_path, "w")  # never closed: its buffer is written when the module is cleared
buffered.write("written at exit")
atexit.register(lambda: print("atexit handler ran", gc.get_freeze_count() == 0, flush=True))
"""


def test_a_process_exits_frozen_and_still_runs_its_atexit_handlers_and_flushes(tmp_path):
    log_path, file_path = tmp_path / "probe.log", tmp_path / "probe.txt"
    done = run_python(PROBE, str(log_path), str(file_path))

    assert done.returncode == 0, done.stderr[-3000:]
    # Registered after config's: it runs first, before anything is frozen.
    assert "atexit handler ran True" in done.stdout
    assert log_path.read_text() == "logged before exit\n"
    assert file_path.read_text() == "written at exit"


def test_config_freezes_the_heap_once_the_atexit_handlers_have_run():
    done = run_python("import atexit, gc, config; atexit._run_exitfuncs(); print(gc.get_freeze_count() > 0)")

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
