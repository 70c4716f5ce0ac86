"""`manage.py register_model NAME URI --version V [--workspace SLUG] [--alias A] [--operation SLUG] [--trust TYPE ...]`.

The model belongs to a workspace: only its members' tokens can read or call it, and it can be
linked to that workspace's operations only. Without --workspace: the operation's, else the existing
model's, else the only workspace (`workspace_for_command`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mlservice import registry
from mlservice.models import RegisteredModel
from tracker.models import Operation, Workspace
from tracker.services import workspace_for_command


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
            "--workspace",
            metavar="SLUG",
            help="The model's workspace; only its members can call it (default: the operation's, else the "
            "existing model's, else the only workspace).",
        )
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
            workspace = self._workspace(options["workspace"], operation, options["name"])
            created = registry.register_version(
                name=options["name"],
                uri=options["uri"],
                version=options["model_version"],
                trust=options["trust"],
                workspace=workspace,
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
        self.stdout.write(
            f"Registered {created.model.name} version {created.version} sha256 {created.sha256} "
            f"in the workspace {workspace.slug}"
        )
        if not created.sklearn_version_recorded:
            self.stdout.write(
                f"The artifact does not record its scikit-learn version; recorded {created.sklearn_version} (running)."
            )
        if options["alias"]:
            self.stdout.write(f"Alias {options['alias']} -> {created.version}")

    @staticmethod
    def _workspace(slug: str | None, operation: Operation | None, name: str) -> Workspace:
        if slug:
            return workspace_for_command(slug)
        if operation is not None:
            return operation.workspace
        existing = RegisteredModel.objects.filter(name=name).select_related("workspace").first()
        return existing.workspace if existing is not None else workspace_for_command()
