"""`manage.py export_tracker SLUG [--format markdown|json]`: print an operation as a document."""

from django.core.management.base import BaseCommand, CommandError

from tracker.exporters import export_json, export_markdown
from tracker.models import Operation


class Command(BaseCommand):
    help = "Print an operation as a markdown tracker document, or as canonical JSON."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")

    def handle(self, *args, slug: str, format: str, **options):
        try:
            text = export_json(slug) if format == "json" else export_markdown(slug)
        except Operation.DoesNotExist:
            raise CommandError(f"no operation with the slug '{slug}'") from None
        self.stdout.write(text, ending="")
