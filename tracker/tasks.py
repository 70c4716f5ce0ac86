"""Celery tasks of the tracker, where Celery's autodiscovery looks for them. The webhook tasks live
with webhooks (tracker.webhooks.tasks) under their names here (`tracker.tasks.deliver_webhook`)."""

from .webhooks.tasks import deliver_webhook, redeliver_stalled_webhooks

__all__ = ["deliver_webhook", "redeliver_stalled_webhooks"]
