"""`manage.py demo_model`: register the demo model `iris` for `make run` (idempotent)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mlservice.demo import ensure_demo_model
from tracker.models import Operation
from tracker.services import workspace_for_command


class Command(BaseCommand):
    help = (
        "Train and register the demo model iris (version 1, alias production), linked to the example operation "
        "and in its workspace."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operation", default="operation-snail-trail", metavar="SLUG")
        parser.add_argument("--s3", action="store_true", help="Put the artifact in the (demo) S3 first.")
        parser.add_argument(
            "--workspace",
            metavar="SLUG",
            help="The model's workspace when the operation does not exist (default: the only workspace).",
        )

    def handle(self, *args, operation: str, s3: bool, workspace: str | None, **options):
        linked = Operation.objects.filter(slug=operation).select_related("workspace").first()
        try:
            home = None if linked is not None else workspace_for_command(workspace)
            version, created = ensure_demo_model(linked, s3=s3, workspace=home)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        where = f", on the dashboard of /operations/{linked.slug}/" if linked else ""
        verb = "Registered" if created else "Demo model"
        self.stdout.write(f"{verb} {version} from {version.artifact_uri}{where}: POST /v2/models/iris/infer")
