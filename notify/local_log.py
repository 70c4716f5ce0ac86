"""`snailtraillog://`: an Apprise target that appends each message to a local file.

`make run`'s demo channel uses it, so the notifications of the demo can be read without a Slack
workspace (`tail -f var/notifications.log`). It is an Apprise custom schema
(`apprise.decorators.notify`), so it goes through Apprise's code path like any other target.
Only where NOTIFY_ALLOW_LOG_TARGET is on (not in production): it writes on this server.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings

from .targets import LOG_SCHEME

_registered = False


def _write(body: str, title: str, notify_type: Any, *args: Any, **kwargs: Any) -> bool:
    path = Path(settings.NOTIFY_LOG_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- {stamp} · {title}\n{body}\n\n")
    return True


def register() -> None:
    """Register the schema with Apprise once per process."""
    global _registered
    if _registered:
        return
    from apprise.decorators import notify

    notify(on=LOG_SCHEME, name="Snail Trail log file")(_write)
    _registered = True
