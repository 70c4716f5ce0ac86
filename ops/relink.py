"""Checks survive a tracker replaced by a new import of its document (`import_tracker --replace`).

The import deletes the operation's items and creates them again; just before, the checks let go
of the items they keep true and remember them by their words (a finding's subject, a task's kind
and title, a blocker's title); just after, they take the new items with the same words. These are
the receivers of `tracker.signals.content_replacing` / `content_replaced`; the writes are
`ops.services.checks_release_items` and `checks_relink`.
"""

from __future__ import annotations

from tracker.models import Operation

from . import services


def hold_links(sender, *, operation: Operation, **kwargs) -> services.HeldLinks:
    return services.checks_release_items(operation=operation)


def relink(sender, *, operation: Operation, state: services.HeldLinks, **kwargs) -> None:
    if sender is not hold_links or not state:
        return
    services.checks_relink(operation=operation, held=state)
