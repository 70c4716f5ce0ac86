"""Who may do what to an operation.

Roles rank viewer < editor < admin; a superuser is an admin everywhere, and a workspace admin is
an admin of every operation in their workspace. Nobody outside the operation's workspace has a
role in it, whatever rows say. Someone who is not a member gets a 404 — the operation does not
exist for them — and a member whose role is too low gets a 403, so a forbidden action is never a silent no-op.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Subquery
from django.http import Http404

from .models import Membership, Operation, WorkspaceMembership

Role = Membership.Role
_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


def role_of(user: AbstractBaseUser | AnonymousUser, operation: Operation) -> str | None:
    """The user's role in the operation, or None. Uses `operation.my_role` when a selector set it."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    if hasattr(operation, "my_role"):
        return operation.my_role
    # One query: the workspace role, and the operation role beside it.
    operation_role = Membership.objects.filter(operation_id=operation.pk, user=user).values("role")[:1]
    found = (
        WorkspaceMembership.objects.filter(workspace_id=operation.workspace_id, user=user)
        .annotate(operation_role=Subquery(operation_role))
        .values_list("role", "operation_role")
        .first()
    )
    if found is None:
        return None
    workspace_role, role = found
    return Role.ADMIN if workspace_role == WorkspaceMembership.Role.ADMIN else role


def has_role(user, operation: Operation, needed: str) -> bool:
    return role_allows(role_of(user, operation), needed)


def role_allows(role: str | None, needed: str) -> bool:
    """Whether `role` (None: no role at all) ranks at least `needed`."""
    return role is not None and _RANK[role] >= _RANK[needed]


def require_role(user, operation: Operation, needed: str) -> str:
    """Return the user's role, or raise 404 for outsiders and 403 for members without `needed`."""
    role = role_of(user, operation)
    if role is None:
        raise Http404("No such operation.")
    if _RANK[role] < _RANK[needed]:
        raise PermissionDenied(f"This needs the {needed} role; you are a {role}.")
    return role
