from django.apps import AppConfig

# The API route that takes a tracker document (tracker.api.operations, `import`): its body has the
# document's limit, TRACKER_MAX_DOCUMENT_BYTES, as the page upload and `import_tracker` do, not the
# API's general one. core.http_errors.BodySizeLimit checks it before any of the body is read.
IMPORT_API_PATH = "/api/operations/import/"


def _import_body_check(length: int, content_type: str) -> str | None:
    """`tracker.importers.body_too_large`, imported when an import request comes: the document
    parsers behind it would otherwise cost every process's startup (issue #18)."""
    from .importers import body_too_large

    return body_too_large(length, content_type)


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracker"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from core.http_errors import register_body_limit

        from . import services, signals, watch
        from .models import Membership
        from .webhooks import receiver as webhooks_receiver

        # Every removed membership is audited, the ones that go with their user or operation too.
        post_delete.connect(services.membership_deleted, sender=Membership, dispatch_uid="tracker.membership_deleted")
        register_body_limit(IMPORT_API_PATH, _import_body_check)
        signals.event_happened.connect(webhooks_receiver.event_happened, dispatch_uid="tracker.webhooks")
        # The events the tracker derives (operation.completed, forecast.slipped) hear the ones it records.
        signals.event_happened.connect(watch.phase_completed, dispatch_uid="tracker.watch.phase_completed")
        signals.event_happened.connect(watch.progress_event, dispatch_uid="tracker.watch.progress_event")
