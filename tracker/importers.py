"""Read a tracker document from a file or an upload and import it through the services."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from . import services
from .lib.parser import DocumentError, Problem, decode, parse
from .models import Operation


@dataclass
class ImportFailed(Exception):
    """Every problem that stopped an import, each with the line it is on."""

    problems: list[Problem]

    def format(self, path: str) -> str:
        return DocumentError(self.problems).format(path)


def import_document(*, data: bytes, actor, replace: bool = False) -> Operation:
    """Parse `data` and create (or replace) its operation in one transaction, or raise ImportFailed."""
    try:
        document = parse(decode(data))
        return services.operation_import(document=document, actor=actor, replace=replace)
    except DocumentError as error:
        raise ImportFailed(error.problems) from None
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
