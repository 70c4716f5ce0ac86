"""`manage.py demo_model`: register the demo model `iris` for `make run` (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from mlservice.demo import ensure_demo_model
from tracker.models import Operation


class Command(BaseCommand):
    help = "Train and register the demo model iris (version 1, alias production), linked to the example operation."

    def add_arguments(self, parser):
        parser.add_argument("--operation", default="operation-snail-trail", metavar="SLUG")
        parser.add_argument("--s3", action="store_true", help="Put the artifact in the (demo) S3 first.")

    def handle(self, *args, operation: str, s3: bool, **options):
        linked = Operation.objects.filter(slug=operation).first()
        version, created = ensure_demo_model(linked, s3=s3)
        where = f", on the dashboard of /operations/{linked.slug}/" if linked else ""
        verb = "Registered" if created else "Demo model"
        self.stdout.write(f"{verb} {version} from {version.artifact_uri}{where}: POST /v2/models/iris/infer")
