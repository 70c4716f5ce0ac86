from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracker"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from . import services
        from .models import Membership

        # Every removed membership is audited, the ones that go with their user or operation too.
        post_delete.connect(services.membership_deleted, sender=Membership, dispatch_uid="tracker.membership_deleted")
