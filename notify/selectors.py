"""Reads of the notify app. Nothing here loads a channel's URL: lists defer its ciphertext."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tracker.models import Operation, Workspace

from .models import Channel, Delivery, Follow, ReportSchedule, StatusReport

RECENT_DELIVERIES = 20


def channels_of(*, operation: Operation | None = None, workspace: Workspace | None = None) -> QuerySet[Channel]:
    """An operation's own channels, or a workspace's (which tell every operation in it)."""
    base = Channel.objects.defer("url_ciphertext").order_by("created_at", "id")
    if operation is not None:
        return base.filter(operation=operation)
    return base.filter(workspace=workspace)


def deliveries_of(*, operation: Operation | None = None, workspace: Workspace | None = None) -> QuerySet[Delivery]:
    """The delivery log of the channels shown on a page, latest first (no URL loaded)."""
    where = Q(channel__operation=operation) if operation is not None else Q(channel__workspace=workspace)
    return Delivery.objects.filter(where).select_related("channel").defer("channel__url_ciphertext", "body")


def channel_in(*, pk: int, operation: Operation | None = None, workspace: Workspace | None = None) -> Channel | None:
    """A channel of this page's operation or workspace; another's is None (the page's 404)."""
    return channels_of(operation=operation, workspace=workspace).filter(pk=pk).first()


def reports_of(*, operation: Operation) -> QuerySet[StatusReport]:
    return StatusReport.objects.filter(operation=operation).defer("markdown", "text", "html")


def schedule_of(*, operation: Operation) -> ReportSchedule | None:
    return ReportSchedule.objects.filter(operation=operation).first()


def follow_of(*, user, operation: Operation) -> Follow | None:
    return Follow.objects.filter(user=user, operation=operation).first() if user.is_authenticated else None
