"""The "Live checks" section of an operation's dashboard (registered in OpsConfig.ready)."""

from __future__ import annotations

from tracker.dashboard import Panel
from tracker.models import Operation

from .models import Check, CheckFlip

RECENT_FLIPS = 8


def live_checks(operation: Operation) -> Panel | None:
    """Each check's verdict, what it saw and when; the latest flips. Two queries; none without checks."""
    checks = list(Check.objects.filter(operation=operation).select_related("environment", "finding", "task", "blocker"))
    if not checks:
        return None
    flips = CheckFlip.objects.filter(live_check__operation=operation).select_related("live_check")[:RECENT_FLIPS]
    return Panel(
        id="checks",
        title="🛰️ Live checks",
        template="ops/checks_panel.html",
        context={"checks": checks, "flips": flips, "operation": operation},
    )
