"""The notify app's links in an operation's dashboard header (registered in NotifyConfig.ready)."""

from __future__ import annotations

from django.urls import reverse

from tracker.dashboard import Link
from tracker.models import Operation


def operation_links(operation: Operation, can_admin: bool) -> list[Link]:
    """Every member reads the reports (and follows from there); admins also manage the channels."""
    links = [Link("Status reports and following", reverse("notify:reports", args=[operation.slug]))]
    if can_admin:
        links.append(Link("Notifications", reverse("notify:operation-channels", args=[operation.slug])))
    return links
