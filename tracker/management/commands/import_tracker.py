"""`manage.py import_tracker PATH [--replace]`: create an operation from a tracker document."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.importers import ImportFailed, import_document


class Command(BaseCommand):
    help = "Import a markdown progress tracker; prints the new operation's slug."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the markdown document to read ('-' for standard input)")
        parser.add_argument("--replace", action="store_true", help="replace the operation if it exists")

    def handle(self, *args, path: str, replace: bool, **options):
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read: {error.strerror}") from None
        try:
            operation = import_document(data=data, actor=None, replace=replace)
        except ImportFailed as failure:
            self.stderr.write(failure.format(path))
            raise CommandError(
                f"{path}: nothing was imported ({len(failure.problems)} problem(s))", returncode=1
            ) from None
        self.stdout.write(operation.slug)
