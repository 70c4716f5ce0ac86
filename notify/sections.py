"""The notify app's section on a workspace's page (for its admins): its channels, and any paused."""

from __future__ import annotations

from tracker.models import Workspace
from tracker.workspace_sections import Section

from .selectors import channels_of


def workspace_channels(workspace: Workspace, user, is_admin: bool) -> Section | None:
    if not is_admin:
        return None
    channels = list(channels_of(workspace=workspace).only("id", "label", "shown_url", "paused_at"))
    return Section(
        id="notification-channels",
        title="🔔 Notification channels",
        template="notify/workspace_section.html",
        context={"workspace": workspace, "channels": channels},
    )
