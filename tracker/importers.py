"""Read a tracker document from a file or an upload and import it through the services."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import slugify

from . import services
from .lib.document import TrackerDocument
from .lib.parser import DocumentError, Problem, decode, parse
from .models import Operation, Workspace
from .permissions import Role, has_role
from .selectors import operation_named


@dataclass
class ImportFailed(Exception):
    """Every problem that stopped an import, each with the line it is on."""

    problems: list[Problem]

    def format(self, path: str) -> str:
        return DocumentError(self.problems).format(path)


def read_document(data: bytes) -> TrackerDocument:
    """Parse the bytes of a file or an upload, or raise ImportFailed listing every problem."""
    try:
        return parse(decode(data))
    except DocumentError as error:
        raise ImportFailed(error.problems) from None


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
    except services.OperationExists as error:
        raise ImportFailed([Problem(1, str(error))]) from None
    except ValidationError as error:
        # The parser checks what it can with line numbers; this is the models' last word.
        messages = (
            [f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages]
            if hasattr(error, "error_dict")
            else error.messages
        )
        raise ImportFailed([Problem(1, message) for message in messages]) from None
