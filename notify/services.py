"""Every write of the notify app: channels, what an event queues, flap and slip rules, follows.

The receiver of `tracker.signals.event_happened` (connected in NotifyConfig.ready) runs inside the
transaction that made the change: it writes its deliveries there and queues their sends with
`transaction.on_commit`, so a rolled-back change is never told (as tracker.webhooks does).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker.events import Event, Occurrence
from tracker.models import Operation, Workspace

from . import crypto, flaps, messages, people, targets
from .models import Channel, CheckWatch, Delivery, Follow, ForecastWatch

logger = logging.getLogger(__name__)

EVENTS = tuple(event.value for event in Event)
EVENT_CHOICES = [(event, event) for event in EVENTS]
# A flip's runs are counted at the check's interval when ops says it (`interval_seconds` in the
# event's details), else at a check's default interval.
DEFAULT_CHECK_INTERVAL = dt.timedelta(minutes=5)
_THRESHOLDS = {"flap_runs": 100, "flap_minutes": 1440, "slip_days": 365}


# --- channels -----------------------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise ValidationError({"events": f"Unknown event {', '.join(map(repr, unknown))}."})
    return events


def _clean_thresholds(values: dict[str, Any]) -> dict[str, int]:
    cleaned = {}
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _THRESHOLDS[name]:
            raise ValidationError({name: f"A whole number from 0 to {_THRESHOLDS[name]}."})
        cleaned[name] = value
    return cleaned


@transaction.atomic
def channel_create(
    *,
    url: str,
    actor,
    operation: Operation | None = None,
    workspace: Workspace | None = None,
    label: str = "",
    events: Iterable[str] = (),
    sends_reports: bool = True,
    **thresholds: int,
) -> Channel:
    """Add a channel for one operation or for every operation of a workspace. The URL is checked
    (Apprise understands it, its server may be reached) and kept only encrypted."""
    if (operation is None) == (workspace is None):
        raise ValueError("A channel belongs to one operation or to one workspace.")
    unknown = thresholds.keys() - _THRESHOLDS.keys()
    if unknown:
        raise ValidationError({name: "This cannot be set." for name in sorted(unknown)})
    try:
        targets.validate(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from None
    channel = Channel.objects.create(
        operation=operation,
        workspace=workspace,
        label=label[:200],
        url_ciphertext=crypto.encrypt(url.strip()),
        shown_url=targets.redacted(url)[:300],
        events=_clean_events(events),
        sends_reports=sends_reports,
        created_by=actor if getattr(actor, "pk", None) else None,
        **_clean_thresholds(thresholds),
    )
    logger.info("notification channel %s added (%s) by %s", channel.pk, channel.shown_url, _name(actor))
    return channel


def _name(actor) -> str:
    return actor.get_username() if getattr(actor, "pk", None) else "system"


_UPDATABLE = {"label", "events", "sends_reports", *_THRESHOLDS}


def channel_update(*, channel: Channel, actor, **changes: Any) -> Channel:
    """Change what a channel hears and how patiently; its URL is replaced by adding a new channel."""
    unknown = changes.keys() - _UPDATABLE
    if unknown:
        raise ValidationError({name: "This cannot be changed." for name in sorted(unknown)})
    if "events" in changes:
        changes["events"] = _clean_events(changes["events"])
    changes.update(_clean_thresholds({k: v for k, v in changes.items() if k in _THRESHOLDS}))
    for name, value in changes.items():
        setattr(channel, name, value)
    channel.save(update_fields=list(changes))
    return channel


def channel_delete(*, channel: Channel, actor) -> None:
    logger.info("notification channel %s deleted by %s", channel.pk, _name(actor))
    channel.delete()


def channel_resume(*, channel: Channel, actor) -> Channel:
    """Unpause a channel that failed too often; it is sent the next events again."""
    Channel.objects.filter(pk=channel.pk).update(paused_at=None, paused_reason="", consecutive_failures=0)
    channel.paused_at, channel.paused_reason, channel.consecutive_failures = None, "", 0
    return channel


@transaction.atomic
def channel_send_test(*, channel: Channel, actor, operation: Operation | None = None) -> Delivery:
    """Queue a test message ("send test" button), even to a paused channel: it is how one checks a fix."""
    operation = operation or channel.operation
    name = operation.name if operation else str(channel.workspace)
    title = f"{name}: test notification"
    body = f"{_name(actor)} sent this test from Snail Trail. This channel will be told about its events here."
    return _queue(channel, operation=operation, event="test", title=title, body=body)[0]


def _queue(channel: Channel, *, operation, event: str, title: str, body: str, html: str = "") -> list[Delivery]:
    delivery = Delivery.objects.create(
        channel=channel,
        operation=operation,
        event=event,
        title=title,
        body=body,
        html=html,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)
    return [delivery]


def _enqueue(delivery_id: str) -> None:
    from .tasks import deliver  # the task module imports this one

    deliver.delay(delivery_id)


# --- events -------------------------------------------------------------------------------------------


def channels_hearing(operation: Operation) -> list[Channel]:
    """The channels told about an operation: its own and its workspace's, unpaused."""
    return list(
        Channel.objects.filter(Q(operation=operation) | Q(workspace_id=operation.workspace_id), paused_at__isnull=True)
        .only("id", "events", "flap_runs", "flap_minutes", "slip_days", "operation_id", "workspace_id")
        .order_by("id")
    )


def event_happened(*, occurrence: Occurrence, **_: Any) -> list[Delivery]:
    """Receiver of `event_happened`: a delivery per channel that wants the event (after its flap or
    slip rule), and an email or digest line per person following the operation. The plain events'
    deliveries are one insert, however many channels hear them."""
    event = occurrence.event.value
    deliveries: list[Delivery] = []
    plain: list[Channel] = []
    for channel in channels_hearing(occurrence.operation):
        if not channel.wants(event):
            continue
        if occurrence.event == Event.CHECK_FLIPPED:
            deliveries += _check_flipped(channel, occurrence)
        elif occurrence.event == Event.FORECAST_SLIPPED:
            deliveries += _forecast_slipped(channel, occurrence)
        else:
            plain.append(channel)
    if plain:
        title, body = messages.describe(occurrence)
        rows = [
            Delivery(
                channel=channel,
                operation=occurrence.operation,
                event=event,
                title=title,
                body=body,
                next_attempt_at=occurrence.at,
            )
            for channel in plain
        ]
        for delivery in Delivery.objects.bulk_create(rows):
            transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)
            deliveries.append(delivery)
    return deliveries + people.followers_told(occurrence)


def _rule(channel: Channel) -> flaps.Rule:
    return flaps.Rule(runs=channel.flap_runs, minutes=channel.flap_minutes)


def _check_flipped(channel: Channel, occurrence: Occurrence) -> list[Delivery]:
    subject = occurrence.subject or {}
    old, new = (occurrence.changes.get("status") or [None, None])[:2]
    watch, _ = CheckWatch.objects.select_for_update().get_or_create(
        channel=channel,
        operation=occurrence.operation,
        check_id=subject.get("id") or 0,
        defaults={"check_name": (subject.get("title") or "")[:200]},
    )
    interval = dt.timedelta(seconds=float(occurrence.details.get("interval_seconds") or 0)) or DEFAULT_CHECK_INTERVAL
    state = flaps.State.from_json(watch.state)
    said = flaps.on_flip(
        state, _rule(channel), from_status=old or "", to_status=new or "", at=occurrence.at, interval=interval
    )
    return _save_watch(watch, channel, state, said)


def _save_watch(watch: CheckWatch, channel: Channel, state: flaps.State, said: list[flaps.Say]) -> list[Delivery]:
    watch.state, watch.due_at = state.to_json(), state.hold_until
    watch.save(update_fields=["state", "due_at"])
    deliveries = []
    operation = watch.operation
    for say in said:
        title, body = messages.describe_flap(
            operation_name=operation.name, slug=operation.slug, check_name=watch.check_name, say=say
        )
        deliveries += _queue(channel, operation=operation, event=Event.CHECK_FLIPPED.value, title=title, body=body)
    return deliveries


@transaction.atomic
def check_watches_due(*, now: dt.datetime | None = None) -> list[Delivery]:
    """Tell the flips whose hold is over, and the flapping checks that settled (the minute sweep)."""
    now = now or timezone.now()
    deliveries: list[Delivery] = []
    due = CheckWatch.objects.select_for_update(skip_locked=True).filter(
        Q(due_at__lte=now) | Q(due_at__isnull=True, state__flapping_said=True)
    )
    for watch in due.select_related("channel", "operation"):
        if watch.channel.is_paused:
            continue
        state = flaps.State.from_json(watch.state)
        said = flaps.due(state, _rule(watch.channel), now=now)
        if said or watch.due_at != state.hold_until:
            deliveries += _save_watch(watch, watch.channel, state, said)
    return deliveries


def _forecast_slipped(channel: Channel, occurrence: Occurrence) -> list[Delivery]:
    """Told when the estimate is more than the channel's days later than the one it was last told."""
    try:
        new = dt.datetime.fromisoformat(occurrence.details["new"])
        old = dt.datetime.fromisoformat(occurrence.details.get("old") or occurrence.details["new"])
    except (KeyError, TypeError, ValueError):
        return []
    watch, created = ForecastWatch.objects.get_or_create(
        channel=channel, operation=occurrence.operation, defaults={"estimate": old}
    )
    slip = (new - watch.estimate).total_seconds() / 86_400
    if slip <= channel.slip_days:
        if new < watch.estimate:  # it came closer: measure the next slip from here
            ForecastWatch.objects.filter(pk=watch.pk).update(estimate=new)
        return []
    ForecastWatch.objects.filter(pk=watch.pk).update(estimate=new)
    details = {**occurrence.details, "old": watch.estimate.isoformat(), "slip_days": slip}
    told = dataclasses.replace(occurrence, details=details)
    title, body = messages.describe(told)
    return _queue(channel, operation=occurrence.operation, event=occurrence.event.value, title=title, body=body)


def follow_set(*, user, operation: Operation, mode: str) -> Follow:
    """Follow an operation by email (each event or a daily digest), or mute it."""
    if mode not in Follow.Mode.values:
        raise ValidationError({"mode": f"One of {', '.join(Follow.Mode.values)}."})
    follow, _ = Follow.objects.update_or_create(user=user, operation=operation, defaults={"mode": mode})
    return follow


def follow_remove(*, user, operation: Operation) -> None:
    Follow.objects.filter(user=user, operation=operation).delete()
