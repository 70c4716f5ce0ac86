"""`manage.py setup_demo`: what `make run` needs on a fresh machine, and nothing on a second run.

Creates a local superuser `demo` with a random password kept in var/demo-password (mode 0600,
never in the database in clear), a workspace "Demo" that it administers, and imports the example
tracker there when it is not there yet.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tracker import services
from tracker.importers import ImportFailed, import_document
from tracker.models import Operation, Workspace, WorkspaceMembership

# A copy of the users' own tracker (shared/examples), so a clone needs nothing beside it.
EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "operation-snail-trail.md"
DEMO_WORKSPACE = "demo"


class Command(BaseCommand):
    help = "Create the demo user and import the example operation (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the app will answer")

    def handle(self, *args, username: str, url: str, **options):
        password = self._demo_user(username)
        workspace = self._demo_workspace(username)
        example = EXAMPLE
        if not Operation.objects.filter(slug="operation-snail-trail").exists():
            try:
                operation = import_document(data=example.read_bytes(), actor=None, workspace=workspace)
            except ImportFailed as failure:
                raise CommandError(failure.format(str(example))) from None
            self.stdout.write(f"Imported {example.name} as /operations/{operation.slug}/")
        self.stdout.write(self.style.SUCCESS(f"Log in at {url} as '{username}' with password '{password}'"))

    def _demo_workspace(self, username: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE).first()
        if workspace is None:
            workspace = services.workspace_create(name="Demo", slug=DEMO_WORKSPACE, actor=None)
        user = get_user_model().objects.get(username=username)
        services.workspace_member_set(workspace=workspace, user=user, role=WorkspaceMembership.Role.ADMIN, actor=None)
        return workspace

    def _demo_user(self, username: str) -> str:
        secret_file = settings.VAR_DIR / "demo-password"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None and secret_file.exists():
            return secret_file.read_text().strip()
        password = secrets.token_urlsafe(12)
        settings.VAR_DIR.mkdir(exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        if user is None:
            User.objects.create_superuser(username=username, email="", password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        return password
