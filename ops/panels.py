"""The "Live checks" section of an operation's dashboard, and the "AWS environments" section of a
workspace's page (registered in OpsConfig.ready)."""

from __future__ import annotations

from tracker.dashboard import Panel, Tally
from tracker.models import Operation, Workspace

from . import selectors
from .models import CheckStatus

_NOT_PASSING = {CheckStatus.FAIL, CheckStatus.ERROR, "stale"}


def live_checks(operation: Operation) -> Panel | None:
    """Each check's verdict, what it saw and when; the latest flips. Two queries; none without checks."""
    checks = list(selectors.checks_for_dashboard(operation))
    if not checks:
        return None
    flips = selectors.operation_flips(operation)
    return Panel(
        id="checks",
        title="🛰️ Live checks",
        template="ops/checks_panel.html",
        context={"checks": checks, "flips": flips, "operation": operation},
        # The first screen's "n of m": a check is not passing when it fails, errs (AWS did not
        # answer) or has gone stale, as the tracker counts its own check-backed items.
        tally=Tally(
            "checks",
            failing=sum(check.shown_status in _NOT_PASSING for check in checks),
            total=len(checks),
            pending=sum(check.shown_status == CheckStatus.PENDING for check in checks),
        ),
    )


def workspace_environments(workspace: Workspace, user, is_admin: bool):
    """The workspace's environments, for its page: what its checks may look at (admins: and change it)."""
    from tracker.workspace_sections import Section

    environments = list(selectors.environments_of_workspace(workspace))
    return Section(
        id="aws-environments",
        title="☁️ AWS environments",
        template="ops/workspace_environments.html",
        context={"workspace": workspace, "environments": environments, "is_admin": is_admin},
    )
