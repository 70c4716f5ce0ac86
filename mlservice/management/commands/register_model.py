"""`manage.py register_model NAME URI --version V [--alias A] [--trust TYPE ...]`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mlservice import registry
from tracker.models import Operation


class Command(BaseCommand):
    help = "Register a skops artifact (s3://bucket/key or an absolute path) as a version of a model."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # The interface names the model version `--version`, which Django's own --version
        # (the Django release) would otherwise claim; ours wins for this command.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("name", help="The model's name (letters, digits, - and _).")
        parser.add_argument("uri", help="s3://bucket/key or an absolute local path to a .skops file.")
        parser.add_argument(
            "--version", required=True, dest="model_version", metavar="V", help="The new version's label."
        )
        parser.add_argument("--alias", help="Point this alias (e.g. production) at the new version.")
        parser.add_argument(
            "--operation", metavar="SLUG", help="The operation (rollout) whose dashboard shows this model."
        )
        parser.add_argument(
            "--trust",
            action="extend",
            nargs="+",
            default=[],
            metavar="TYPE",
            help="A type the artifact holds that you have reviewed and approve (repeatable).",
        )

    def handle(self, *args, **options):
        operation = None
        if options["operation"]:
            operation = Operation.objects.filter(slug=options["operation"]).first()
            if operation is None:
                raise CommandError(f"No operation with the slug {options['operation']!r}.")
        try:
            created = registry.register_version(
                name=options["name"],
                uri=options["uri"],
                version=options["model_version"],
                trust=options["trust"],
                alias=options["alias"],
                operation=operation,
            )
        except registry.UntrustedTypes as exc:
            self.stderr.write("Untrusted types in the artifact (review each, then pass it with --trust):")
            for name in exc.types:
                self.stderr.write(f"  {name}")
            raise CommandError(f"Refused: {len(exc.types)} untrusted type(s).") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Registered {created.model.name} version {created.version} sha256 {created.sha256}")
        if not created.sklearn_version_recorded:
            self.stdout.write(
                f"The artifact does not record its scikit-learn version; recorded {created.sklearn_version} (running)."
            )
        if options["alias"]:
            self.stdout.write(f"Alias {options['alias']} -> {created.version}")
