"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi:application`.

Each worker is a separate process, so Prometheus metrics are kept in prometheus-client's
multiprocess mode: every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
`/metrics` adds them up. The directory is emptied when gunicorn starts (stale files from a previous
run would be counted again) and a dead worker's live gauges are dropped when it exits.
Everything here can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# A worker that hangs (a stuck model, a lost database) is replaced instead of holding its socket.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30

_var = Path(os.environ.get("SNAILTRAIL_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus"))
# gunicorn 27's control socket defaults to ~/.gunicorn/gunicorn.ctl, one path for every instance
# the user runs (tests and benchmarks run several); each state directory gets its own.
control_socket = str(_var / "gunicorn.ctl")


def on_starting(server) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    # The access log prints each request line, query string included, and the error log at debug
    # each path: credentials in them (`?token=`, a public link's token) are redacted, as the app's
    # own log lines are (config/request_id.py). The workers inherit the filters.
    from config.request_id import RedactingFilter

    for name in ("gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
