"""Read a tracker document from a file or an upload and import it through the services."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import slugify

from . import services
from .lib.document import TrackerDocument
from .lib.parser import DocumentError, Limits, Problem, decode, parse, size_problem
from .models import Operation, Workspace
from .permissions import Role, has_role
from .selectors import operation_named

# Room for the multipart envelope (boundaries, part headers, the other fields) around a document
# uploaded as a form, so that a document at the limit is refused by nothing but its own size.
MULTIPART_ENVELOPE_BYTES = 64 * 1024


def limits() -> Limits:
    """The document budgets of the settings (config/settings/base.py says why each default)."""
    return Limits(
        max_bytes=settings.TRACKER_MAX_DOCUMENT_BYTES,
        max_lines=settings.TRACKER_MAX_LINES,
        max_blocks=settings.TRACKER_MAX_BLOCKS,
        max_nesting=settings.TRACKER_MAX_NESTING,
    )


@dataclass
class ImportFailed(Exception):
    """The problems that stopped an import, each with the line it is on: at most
    `parser.MAX_PROBLEMS` and then one entry counting the rest; `total` counts them all."""

    problems: list[Problem]
    total: int = 0

    def __post_init__(self) -> None:
        self.total = max(self.total, len(self.problems))

    def format(self, path: str) -> str:
        return DocumentError(self.problems).format(path)


class DocumentTooLarge(ImportFailed):
    """Over TRACKER_MAX_DOCUMENT_BYTES: refused before it is read or parsed (a 413 on the API)."""

    @property
    def message(self) -> str:
        """The problem as a sentence, for an answer's `error`."""
        text = self.problems[0].message
        return f"{text[:1].upper()}{text[1:]}."


def check_size(size: int) -> None:
    """Raise DocumentTooLarge for a document of `size` bytes over TRACKER_MAX_DOCUMENT_BYTES."""
    problem = size_problem(size, limits())
    if problem is not None:
        raise DocumentTooLarge([problem])


def body_too_large(length: int, content_type: str) -> str | None:
    """Why a request body of `length` bytes that carries a document (as it is, or in a multipart
    form) is refused before it is read, or None when it is not."""
    limit = settings.TRACKER_MAX_DOCUMENT_BYTES
    envelope = MULTIPART_ENVELOPE_BYTES if content_type.startswith("multipart/") else 0
    if length <= limit + envelope:
        return None
    return f"The body is {length:,} bytes; a tracker document may be {limit:,} bytes (TRACKER_MAX_DOCUMENT_BYTES)."


def read_document(data: bytes) -> TrackerDocument:
    """Parse the bytes of a file or an upload, or raise ImportFailed listing its problems
    (DocumentTooLarge when it is over the size budget)."""
    check_size(len(data))
    budgets = limits()
    try:
        return parse(decode(data, budgets), budgets)
    except DocumentError as error:
        raise ImportFailed(error.problems, error.total) from None


def import_document(*, data: bytes, actor, workspace: Workspace, replace: bool = False) -> Operation:
    """Parse `data` and create (or replace) its operation in one transaction, or raise ImportFailed."""
    return import_parsed(document=read_document(data), actor=actor, workspace=workspace, replace=replace)


def import_as(*, document: TrackerDocument, actor, workspace: Workspace, replace: bool = False) -> Operation:
    """Import for a user, into a workspace they belong to (the caller chose it among theirs):
    replacing an operation needs its admin role (PermissionDenied otherwise).

    Only an operation the user can see is "the same name": anything else gets a new operation.
    """
    if replace:
        base = slugify(document.name)
        for existing in operation_named(workspace=workspace, base_slug=base, user=actor):
            if slugify(existing.name) == base and not has_role(actor, existing, Role.ADMIN):
                raise PermissionDenied("Only an admin of that operation can replace it.")
    return import_parsed(document=document, actor=actor, workspace=workspace, replace=replace)


def import_parsed(*, document: TrackerDocument, actor, workspace: Workspace, replace: bool = False) -> Operation:
    try:
        return services.operation_import(document=document, actor=actor, workspace=workspace, replace=replace)
    except (services.OperationExists, services.AddressTaken) as error:
        raise ImportFailed([Problem(1, str(error))]) from None
    except ValidationError as error:
        # The parser checks what it can with line numbers; this is the models' last word.
        messages = (
            [f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages]
            if hasattr(error, "error_dict")
            else error.messages
        )
        raise ImportFailed([Problem(1, message) for message in messages]) from None
