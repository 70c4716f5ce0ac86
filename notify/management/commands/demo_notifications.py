"""`manage.py demo_notifications`: `make run`'s demo operation gets a channel that writes to a file.

The channel is Apprise's `snailtraillog://` (notify.local_log, an Apprise custom schema): every
event of the demo and its weekly status report land in NOTIFY_LOG_FILE (var/notifications.log),
where `tail -f` shows them. Idempotent: run twice, one channel.
"""

from django.core.management.base import BaseCommand

from tracker.models import Operation

from ...models import Channel, ReportSchedule
from ...reports import schedule_set
from ...services import channel_create

DEMO_SLUG = "operation-snail-trail"
DEMO_LABEL = "demo log file (var/notifications.log)"


class Command(BaseCommand):
    help = "Give the demo operation a notification channel that writes to NOTIFY_LOG_FILE, and a report schedule."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default=DEMO_SLUG)

    def handle(self, *args, slug: str, **options):
        operation = Operation.objects.filter(slug=slug).first()
        if operation is None:
            self.stderr.write(f"No operation {slug!r}: run setup_demo first.")
            return
        if not Channel.objects.filter(operation=operation, label=DEMO_LABEL).exists():
            channel_create(operation=operation, url="snailtraillog://demo", actor=None, label=DEMO_LABEL, flap_runs=1)
        if not ReportSchedule.objects.filter(operation=operation).exists():
            schedule_set(operation=operation, enabled=True, weekday=0, hour=9, minute=0, timezone_name="UTC")
        self.stdout.write(f"Notifications of {operation.name} go to the demo log file (tail -f var/notifications.log).")
