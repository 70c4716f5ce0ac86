"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi:application`.

Each worker is a separate process, so Prometheus metrics are kept in prometheus-client's
multiprocess mode: every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
`/metrics` adds them up. The directory is emptied when gunicorn starts (stale files from a previous
run would be counted again) and a dead worker's live gauges are dropped when it exits.
Everything here can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: each answers one request at a time, so the probes (/healthz, /readyz) are answered
# as long as one worker is free. What keeps them free is that no request is long: a tracker import
# is bounded by its budgets (~0.5 s at most, config/settings/base.py), the database and the cache
# wait seconds at most; tests/reliability/test_hostile_import.py has two hostile imports take every
# worker while /healthz is probed. Behind a proxy that buffers request bodies, as in production, a
# slow client does not hold a worker either.
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# A worker whose request runs past this (a stuck model, a lost database, a bug) is killed and
# replaced instead of holding its socket. Generous: an ops diagnosis may make AWS calls of 15 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# How long a restart or a recycle lets a worker finish its request (docker-compose.yml stops a
# container after 35 s).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Each worker is replaced after about this many requests, the jitter spreading the replacements so
# that they never come all at once: what a worker's memory grew by (the peak of the largest import,
# fragmentation, a leak) goes back to the system. Not every few seconds: a new worker loads its
# models again on its first inference.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))

_var = Path(os.environ.get("SNAILTRAIL_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus"))
# gunicorn 27's control socket defaults to ~/.gunicorn/gunicorn.ctl, one path for every instance
# the user runs (tests and benchmarks run several); each state directory gets its own.
control_socket = str(_var / "gunicorn.ctl")


# Third-party libraries every worker imports, imported once here in the master: each worker, and
# each one that replaces a recycled worker (every `max_requests`), inherits them through fork
# instead of spending 1.8 s of CPU on them (at full load a worker is recycled every ten seconds or so:
# docs/benchmarks.md, "Inference"). Libraries only, none of our code: a HUP still loads a new
# version of the app in new workers.
PRELOADED = ("numpy", "scipy.sparse", "sklearn.utils", "skops.io")


def on_starting(server) -> None:
    for name in PRELOADED:
        importlib.import_module(name)
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    # The access log prints each request line, query string included, and the error log at debug
    # each path: credentials in them (`?token=`, a public link's token) are redacted, as the app's
    # own log lines are (config/request_id.py). The workers inherit the filters.
    from core.request_id import RedactingFilter

    for name in ("gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def post_worker_init(worker) -> None:
    # A worker serves models: scikit-learn and skops are imported before it takes requests, not by
    # its first inference (mlservice imports them lazily so that every manage.py command starts fast);
    # inherited from the master (PRELOADED), unless this gunicorn was started another way.
    from mlservice.artifacts import import_runtime

    import_runtime()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
