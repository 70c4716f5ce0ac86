"""Signing and sending one webhook delivery: the address checks (core.egress), the signature, the
POST, and the retries with backoff. It knows nothing of events or of Celery (tracker.webhooks.tasks
calls `delivery_attempt` and retries on `RetryLater`).

Each delivery is a POST of the JSON payload, signed with the webhook's secret:
`X-SnailTrail-Signature: sha256=<hex HMAC-SHA256 of the exact body>`. Receivers verify it with a
constant-time comparison and may drop repeats by `X-SnailTrail-Delivery` (delivery is at least
once: a worker lost mid-send means the delivery is sent again).

Where a webhook may go is core.egress's rule: public addresses only. Targets are judged when the
webhook is saved and again at each send (DNS may have changed since), where the host is resolved
once and the connection goes to the address judged, so a name that answers differently a moment
later (DNS rebinding) still cannot reach inside our network. Redirects are not followed.
`WEBHOOK_ALLOW_HTTP` allows http, and `WEBHOOK_ALLOW_PRIVATE_TARGETS` private addresses, for a
receiver inside the operator's network; loopback, link-local (the cloud metadata service) and this
instance's own services stay refused even then (docs/egress.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from core import egress

from ..models import WebhookDelivery

logger = logging.getLogger("tracker.webhooks")

USER_AGENT = "SnailTrail-Webhooks/1"
EXCERPT_CHARS = 500
# Statuses worth asking again: the receiver is down, overloaded or slow, not refusing us.
_RETRY_STATUSES = {408, 429}


def sign(secret: str, body: bytes) -> str:
    """The X-SnailTrail-Signature of a body: `sha256=` and the hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: sorted keys, no spaces, so the same payload gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class RetryLater(Exception):
    """The attempt failed in a way worth repeating; the task retries after `countdown` seconds."""

    def __init__(self, countdown: float):
        self.countdown = countdown
        super().__init__(f"retry in {countdown:g} s")


def validate_target(url: str) -> None:
    """Refuse a URL webhooks may not be sent to; raises ValidationError saying why.

    https only (unless WEBHOOK_ALLOW_HTTP), no user name or password in it, and every address
    the host resolves to public by core.egress's rule (unless WEBHOOK_ALLOW_PRIVATE_TARGETS, which
    opens private addresses but never loopback, link-local (the cloud metadata service), this
    instance's own services, or an IPv6 form wrapping one of them). An IP literal needs no DNS.
    """
    _check_url(url)
    try:
        egress.check_target(url, egress.Policy.for_webhooks(), timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except egress.Refused as refused:
        raise ValidationError(_refusal(refused), code="private") from None
    except egress.Unresolvable as error:
        raise ValidationError(f"The host name {error.host} does not resolve.", code="unresolvable") from None
    except egress.EgressError as error:
        raise ValidationError(f"That URL cannot be checked now ({error}).", code="invalid") from None


def _check_url(url: str) -> None:
    """The rules of a webhook URL that need no DNS."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as error:
        raise ValidationError(f"That is not a valid URL ({error}).", code="invalid") from None
    if scheme not in ("https", "http"):
        raise ValidationError("Webhook URLs must start with https://.", code="scheme")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationError("Webhook URLs must use https, not http.", code="scheme")
    problem = egress.url_problem(url)
    if "user name or password" in problem:
        raise ValidationError("Webhook URLs must not contain a user name or password.", code="userinfo")
    if problem:
        raise ValidationError(f"That is not a valid URL: it {problem}", code="invalid")


def _refusal(refused: egress.Refused) -> str:
    # The address a name resolved to is not repeated: it would tell an operation admin our internal DNS.
    where = f"{refused.host} is" if refused.is_literal else f"{refused.host} resolves to an address that is"
    if refused.never and settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:  # private ones are allowed: say what is not
        return (
            f"{where} not public: webhooks are never sent to loopback or link-local addresses (the cloud "
            "metadata service), nor to this instance's own services."
        )
    return (
        f"{where} not public: webhooks are never sent to loopback, private, link-local or reserved addresses, "
        "nor to this instance's own services."
    )


def _backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` of them: base, x4, x16..."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempts - 1)


def delivery_attempt(*, delivery_id: str) -> WebhookDelivery | None:
    """Make one attempt at a delivery and record it; raise RetryLater when another is due.

    Safe to run twice: a delivery that is no longer pending is left alone, and the attempt is
    claimed by a conditional update, so two workers holding the same message send it once.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").filter(delivery_id=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return delivery  # its webhook was deleted, or it is done
    if not delivery.webhook.active:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error="The webhook was paused before this was sent.")
    if not _claim(delivery):
        return delivery  # another worker has this attempt
    try:
        _check_url(delivery.webhook.url)  # the settings may have changed since it was saved
    except ValidationError as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error="Target refused: " + " ".join(error.messages))
    return _send(delivery)


def _claim(delivery: WebhookDelivery) -> bool:
    """Count this attempt, unless another worker counted it first (a conditional update)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, last_attempt_at=now)
    if claimed:
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status, delivery.response_excerpt = None, ""
    return bool(claimed)


def _send(delivery: WebhookDelivery) -> WebhookDelivery:
    """POST the signed payload and record what came of it."""
    webhook = delivery.webhook
    body = encode(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-SnailTrail-Event": delivery.event,
        "X-SnailTrail-Delivery": str(delivery.delivery_id),
        "X-SnailTrail-Signature": sign(webhook.secret, body),
    }
    # The host is resolved here once, every address judged again (DNS may have changed since the
    # webhook was saved), and the connection goes to the address judged: no second lookup to rebind.
    try:
        answer = egress.fetch(
            "POST",
            webhook.url,
            policy=egress.Policy.for_webhooks(),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=4 * EXCERPT_CHARS,
            headers=headers,
            body=body,
        )
    except egress.Refused as refused:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"Target refused: {_refusal(refused)}")
    except (egress.Unresolvable, egress.InvalidURL) as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"Target refused: {error}.")
    except (egress.ConnectFailed, egress.TimedOut) as error:
        return _retry_or_fail(delivery, error=f"{error.code}: {error}")
    except egress.EgressError as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"{error.code}: {error}")
    delivery.response_status = answer.status
    delivery.response_excerpt = answer.text[:EXCERPT_CHARS]
    return _judge(delivery, answer.status)


def _judge(delivery: WebhookDelivery, status: int) -> WebhookDelivery:
    """Done, failed, or another attempt later, by the receiver's HTTP status."""
    if 200 <= status < 300:
        return _finish(delivery, WebhookDelivery.Status.SUCCEEDED)
    if status >= 500 or status in _RETRY_STATUSES:
        return _retry_or_fail(delivery, error=f"The receiver answered {status}.")
    if 300 <= status < 400:
        return _finish(
            delivery,
            WebhookDelivery.Status.FAILED,
            error=f"The receiver answered {status}: redirects are not followed.",
        )
    return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"The receiver answered {status}.")


_OUTCOME_FIELDS = ["status", "response_status", "response_excerpt", "error", "next_attempt_at"]


def _finish(delivery: WebhookDelivery, status: str, *, error: str = "") -> WebhookDelivery:
    delivery.status, delivery.error, delivery.next_attempt_at = status, error[:2000], None
    delivery.save(update_fields=_OUTCOME_FIELDS)
    log = logger.info if status == WebhookDelivery.Status.SUCCEEDED else logger.warning
    # No URL and no error text in the logs: a webhook URL's path often holds the receiver's token.
    log(
        "webhook delivery %s (%s, webhook %s) %s after %s attempt(s), last reply %s",
        delivery.delivery_id,
        delivery.event,
        delivery.webhook_id,
        status,
        delivery.attempts,
        delivery.response_status,
    )
    return delivery


def _retry_or_fail(delivery: WebhookDelivery, *, error: str) -> WebhookDelivery:
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=error)
    countdown = _backoff(delivery.attempts)
    delivery.error = error[:2000]
    delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=countdown)
    delivery.save(update_fields=_OUTCOME_FIELDS)
    logger.info(
        "webhook delivery %s attempt %s failed (reply %s); again in %g s",
        delivery.delivery_id,
        delivery.attempts,
        delivery.response_status,
        countdown,
    )
    raise RetryLater(countdown)
