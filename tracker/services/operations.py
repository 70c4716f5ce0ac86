"""Operations: create, change, delete, and the address (slug) each one gets."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from ..models import Membership, Operation, Phase, Workspace
from .activity import Actor, _changer_name, _user, activity_record
from .base import item_update

# --- operations -----------------------------------------------------------------------------------


# Words that follow `operations/` in a route of their own (`/api/operations/import/`): an operation
# with such a slug could never be reached. tests/tracker/test_workspaces.py walks the URL
# resolver so that a new route cannot add one without adding it here.
RESERVED_SLUGS = frozenset({"import", "new", "create", "export", "search", "settings", "workspaces", "me"})


def _slug_for(name: str) -> str:
    slug = slugify(name)[:190]
    if not slug:
        raise ValidationError({"name": "The name needs at least one letter or digit to make a URL from."})
    return slug


def _free_slug(base: str) -> str:
    """`base`, or `base` with a fresh random suffix when it is a route's word or taken anywhere.

    Random, not `-2`: a counter would tell how many operations of that name exist elsewhere, and a
    clash must not confirm an operation the caller cannot see."""
    slug = base
    while slug in RESERVED_SLUGS or Operation.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def operation_create(*, workspace: Workspace, name: str, actor: Actor, **fields: Any) -> Operation:
    """Create an operation in a workspace; its creator becomes its admin."""
    slug = fields.pop("slug", None)
    if slug is not None and (slug in RESERVED_SLUGS or Operation.objects.filter(slug=slug).exists()):
        # Said the same way whoever holds it: a chosen slug that is taken is simply not free.
        raise ValidationError({"slug": f"The address '{slug}' is not available; choose another or leave it empty."})
    operation = Operation(workspace=workspace, name=name, slug=slug or _free_slug(_slug_for(name)), **fields)
    operation.updated_by, operation.updated_by_name = _user(actor), _changer_name(actor)
    operation.full_clean()
    operation.save()
    activity_record(operation=operation, actor=actor, action="created", subject=operation)
    if _user(actor):
        Membership.objects.create(operation=operation, user=actor, role=Membership.Role.ADMIN)
    return operation


def operation_update(*, operation: Operation, actor: Actor, **changes: Any) -> Operation:
    return item_update(item=operation, actor=actor, **changes)


@transaction.atomic
def operation_delete(*, operation: Operation, actor: Actor) -> None:
    """Delete an operation and everything in it (its activity log goes with it)."""
    operation.delete()


def operation_set_current_phase(*, operation: Operation, phase: Phase | None, actor: Actor) -> Operation:
    return operation_update(operation=operation, actor=actor, current_phase=phase)


def operations_touch(*, operation_ids: Iterable[int]) -> int:
    """Move the operations' versions, which open dashboards poll: something another app shows on
    them changed (ops: a check's new run) with no change to the tracker, so no activity entry."""
    return Operation.objects.filter(pk__in=set(operation_ids)).update(version=F("version") + 1)
