"""Every check type, by code. Importing this module registers them all (each module registers its
own types with `@register` when imported); `get` is the one way to look a type up by code.
"""

from __future__ import annotations

from . import ecs, generic, http, inference, network, reachability  # noqa: F401 - imported to register their types
from .base import CheckType, get_type, registry


def get(code: str) -> CheckType:
    """The type with this code; a ValidationError on "type" naming the known codes otherwise."""
    return get_type(code)


def choices() -> list[tuple[str, str]]:
    """(code, label) of every type, for a form's or the API's choices."""
    return sorted(((code, kind.label) for code, kind in registry.items()), key=lambda choice: choice[1])


__all__ = ["CheckType", "choices", "get", "registry"]
