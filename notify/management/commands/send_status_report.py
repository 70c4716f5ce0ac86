"""`manage.py send_status_report SLUG [--dry-run]`: print an operation's status report, and send it."""

from django.core.management.base import BaseCommand, CommandError

from tracker.models import Operation

from ...models import StatusReport
from ...reports import report_build, report_send


class Command(BaseCommand):
    help = "Print an operation's status report (markdown) and send it to its report channels and followers."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--dry-run", action="store_true", help="Print it only: nothing is kept or sent.")

    def handle(self, *args, slug: str, dry_run: bool, **options):
        operation = Operation.objects.filter(slug=slug).first()
        if operation is None:
            raise CommandError(f"No operation has the slug {slug!r}.")
        if dry_run:
            self.stdout.write(report_build(operation=operation).render("md"))
            return
        report = report_send(operation=operation, trigger=StatusReport.Trigger.DEMAND)
        self.stdout.write(report.markdown)
        self.stderr.write(f"Kept as report {report.pk} and queued to the report channels and followers.")
