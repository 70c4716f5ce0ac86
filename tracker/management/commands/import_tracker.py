"""`manage.py import_tracker PATH [--replace]`: create an operation from a tracker document."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracker import services
from tracker.importers import DocumentTooLarge, ImportFailed, check_size, import_document
from tracker.lib.parser import Problem


class Command(BaseCommand):
    help = "Import a markdown progress tracker; prints the new operation's slug."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the markdown document to read ('-' for standard input)")
        parser.add_argument("--replace", action="store_true", help="replace the operation if it exists")
        parser.add_argument(
            "--workspace",
            help="the workspace's slug (default: the only one; 'default' is made when there is none)",
        )

    def handle(self, *args, path: str, replace: bool, workspace: str | None = None, **options):
        try:
            data = self._read(path)
        except OSError as error:
            raise CommandError(f"{path}: cannot read: {error.strerror}") from None
        except DocumentTooLarge as refused:
            self.stderr.write(refused.format(path))
            raise CommandError(f"{path}: nothing was imported (1 problem)", returncode=1) from None
        try:
            with transaction.atomic():  # a "Default" workspace made for a failed import goes too
                target = services.workspace_for_command(workspace)
                operation = import_document(data=data, actor=None, workspace=target, replace=replace)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        except ImportFailed as failure:
            self.stderr.write(failure.format(path))
            raise CommandError(f"{path}: nothing was imported ({failure.total:,} problem(s))", returncode=1) from None
        self.stdout.write(operation.slug)

    @staticmethod
    def _read(path: str) -> bytes:
        """The document's bytes; one over TRACKER_MAX_DOCUMENT_BYTES raises DocumentTooLarge
        without being read whole (a file by its size, standard input past the limit)."""
        if path != "-":
            check_size(Path(path).stat().st_size)
            return Path(path).read_bytes()
        limit = settings.TRACKER_MAX_DOCUMENT_BYTES
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            message = f"the document is more than {limit:,} bytes; the limit is {limit:,} (TRACKER_MAX_DOCUMENT_BYTES)"
            raise DocumentTooLarge([Problem(1, message)])
        return data
