"""What a member's dashboard reads of one version of an operation, loaded once and then shared.

The page is read far more often than its operation changes: by every member who opens it, and by
every open page's poll after each change. What it reads of the database here depends only on the
operation's rows, and every change to them moves `Operation.version`, which the page's ETag query
reads anyway:
  - the operation with its phases and items (`selectors.operation_for_dashboard`): every service
    that changes one records activity, which moves the version;
  - its progress history: written only by `services.progress_record`, in the same transaction as
    the activity of the change that moved a figure;
  - its latest activity: each entry is written by `services.activity_record`, which moves the version;
  - ops' check runs change what the tracker's items say and call `operations_touch`.
So one load serves every read of a version, in every process that shares the cache (Redis in
production). Loading it is ~9 ms of ORM for the example, reading it back ~1 ms, most of it
unpickling seventy model instances (bench/dashboard.py), so each process also keeps the latest
version it read of each operation as objects. An old version's entry is never read again and expires.

A write that does not move the version (a user renamed or deleted, SQL by hand) shows within
CACHE_SECONDS: no content is served longer than that after it was read from the database, whichever
cache holds it, and the sections kept from it go with it (tracker/views/pages.py: kept_sections_key).

Nothing here depends on the viewer or the clock: roles, "5 minutes ago", undo windows and the live
panels of other apps are worked out per request from what this holds. What it holds is shared by
the requests of a process, threads included: read it, never set anything on it (the viewer's role
is the ETag query's, beside it: tracker/views/pages.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, fields
from functools import lru_cache

import django
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.utils import timezone

from .models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Challenge,
    Decision,
    Finding,
    Operation,
    Phase,
    ProgressSnapshot,
    Quote,
    Task,
)
from .selectors import activity_feed, operation_for_dashboard, progress_history

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600  # the longest a content is served after it was read from the database
ACTIVITY_SHOWN = 20  # the latest entries the page lists
KEPT_IN_PROCESS = 256  # operations whose latest version read a process keeps as objects
_in_process: dict[str, DashboardContent] = {}  # by operation: the latest version read


@dataclass
class DashboardContent:
    operation: Operation  # with what `operation_for_dashboard` prefetches, and no viewer's `my_role`
    history: list[ProgressSnapshot]  # oldest first
    activity: list[ActivityEntry]  # newest first, ACTIVITY_SHOWN of them
    loaded_at: dt.datetime  # when it was read from the database

    def fresh(self, now: dt.datetime) -> bool:
        return now - self.loaded_at < dt.timedelta(seconds=CACHE_SECONDS)


def dashboard_content(*, pk: int, version: int, created_at: dt.datetime) -> DashboardContent | None:
    """The content of the operation at `version` or later: from the cache when a request has loaded
    that version before, else loaded (and kept for the next one). None if the operation is gone.

    `created_at` is in the key beside the primary key, so a database whose ids start again (a test
    run, a restored backup) never reads another operation's entry."""
    key = f"tracker:dashboard:{_content_shape()}:{pk}:{created_at.timestamp()}"
    now = timezone.now()
    if (kept := _in_process.get(key)) is not None and kept.operation.version == version and kept.fresh(now):
        return kept
    backend = caches["default"]
    try:
        content = backend.get(f"{key}:{version}")
    except Exception:  # the cache is a shortcut: when it is down, the page loads as it would without it
        logger.warning("dashboard cache unavailable; loading operation %s", pk, exc_info=True)
        return _load(pk)
    if content is not None and not content.fresh(now):
        content = None  # whatever the backend's own expiry says
    if content is None and (content := _load(pk)) is not None:
        try:
            # Under the version it was loaded at: what it holds is at least that new (the operation's
            # row is read first), whatever version the caller read a moment earlier.
            backend.set(f"{key}:{content.operation.version}", content, CACHE_SECONDS)
        except Exception:
            logger.warning("dashboard cache unavailable; operation %s not kept", pk, exc_info=True)
    if content is not None:
        if len(_in_process) >= KEPT_IN_PROCESS:  # bounded: a full process starts again
            _in_process.clear()
        _in_process[key] = content  # one version per operation
    return content


def _load(pk: int) -> DashboardContent | None:
    loaded_at = timezone.now()  # before the first read: what it holds is at least this new
    operation = operation_for_dashboard().filter(pk=pk).first()
    if operation is None:
        return None
    return DashboardContent(
        operation=operation,
        history=list(progress_history(operation=operation)),
        activity=list(activity_feed(operation=operation, limit=ACTIVITY_SHOWN)),
        loaded_at=loaded_at,
    )


@lru_cache(maxsize=1)
def _content_shape() -> str:
    """A digest of the shape of what is kept (Django's version, the columns of each model, the
    fields of `DashboardContent`), so that entries written by a release with another shape are not
    read back by this one: a deploy that adds a field starts new keys."""
    models = (Operation, Phase, Task, Challenge, Finding, Blocker, Decision, Achievement, Quote, ProgressSnapshot)
    models += (ActivityEntry, get_user_model())  # who changed what, who did what
    columns = [f"{m._meta.label}:{'.'.join(f.attname for f in m._meta.concrete_fields)}" for m in models]
    shape = [django.get_version(), *columns, ".".join(f.name for f in fields(DashboardContent))]
    return hashlib.sha256(",".join(shape).encode()).hexdigest()[:12]
