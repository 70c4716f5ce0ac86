"""Workspaces and who belongs to them; every change here is a security event (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from ..models import Membership, Workspace, WorkspaceMembership
from .activity import Actor, _security_event, _user
from .people import membership_remove


@transaction.atomic
def workspace_create(*, name: str, actor: Actor, slug: str = "", egress_allow: list[str] | None = None) -> Workspace:
    """A new workspace (instance superusers make them); its creator, when a person, administers it."""
    workspace = Workspace(name=name, slug=slug or slugify(name)[:100], egress_allow=egress_allow or [])
    workspace.full_clean()
    workspace.save()
    _security_event(Workspace, "workspace_created", user=_user(actor), workspace=workspace.slug)
    if _user(actor) is not None:
        workspace_member_set(workspace=workspace, user=actor, role=WorkspaceMembership.Role.ADMIN, actor=actor)
    return workspace


def workspace_for_command(slug: str | None = None) -> Workspace:
    """The workspace a management command works in: the one named, else the only one, made (as
    "Default") when there is none yet. Commands run as the operator, who sees every workspace."""
    if slug:
        found = Workspace.objects.filter(slug=slug).first()
        if found is None:
            known = ", ".join(Workspace.objects.values_list("slug", flat=True)) or "none"
            raise ValidationError(f"No workspace '{slug}' (there are: {known}).")
        return found
    existing = list(Workspace.objects.all()[:2])
    if len(existing) > 1:
        known = ", ".join(Workspace.objects.values_list("slug", flat=True))
        raise ValidationError(f"There are several workspaces; name one ({known}).")
    return existing[0] if existing else workspace_create(name="Default", actor=None)


@transaction.atomic
def workspace_update(
    *, workspace: Workspace, actor: Actor, name: str | None = None, egress_allow: list[str] | None = None
) -> Workspace:
    """Rename a workspace or change the internal hosts its checks may reach (audited: it widens egress)."""
    changed: dict[str, list[Any]] = {}
    if name is not None and name != workspace.name:
        changed["name"] = [workspace.name, name]
        workspace.name = name
    if egress_allow is not None and egress_allow != workspace.egress_allow:
        changed["egress_allow"] = [workspace.egress_allow, egress_allow]
        workspace.egress_allow = egress_allow
    if changed:
        workspace.full_clean()
        workspace.save()
        _security_event(Workspace, "workspace_changed", user=_user(actor), workspace=workspace.slug, changes=changed)
    return workspace


@transaction.atomic
def workspace_member_set(
    *, workspace: Workspace, user: AbstractBaseUser, role: str, actor: Actor
) -> WorkspaceMembership:
    """Add a user to a workspace with a role, or change their role there."""
    if role not in WorkspaceMembership.Role.values:
        raise ValidationError({"role": f"Not a workspace role: {role!r} (member or admin)."})
    membership = WorkspaceMembership.objects.select_for_update().filter(workspace=workspace, user=user).first()
    old_role = None if membership is None else membership.role
    if membership is None:
        membership = WorkspaceMembership.objects.create(workspace=workspace, user=user, role=role)
    elif membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if old_role != role:
        _security_event(
            WorkspaceMembership,
            "workspace_membership_granted" if old_role is None else "workspace_membership_changed",
            user=_user(actor),
            workspace=workspace.slug,
            member_id=user.pk,
            member=user.get_username(),
            role_old=old_role,
            role_new=role,
        )
    return membership


@transaction.atomic
def workspace_member_remove(*, membership: WorkspaceMembership, actor: Actor) -> None:
    """Take a user out of a workspace, and so out of every operation in it."""
    for operation_membership in Membership.objects.filter(
        user_id=membership.user_id, operation__workspace_id=membership.workspace_id
    ).select_related("operation", "user"):
        membership_remove(membership=operation_membership, actor=actor)
    _security_event(
        WorkspaceMembership,
        "workspace_membership_revoked",
        user=_user(actor),
        workspace=membership.workspace.slug,
        member_id=membership.user_id,
        member=membership.user.get_username(),
        role_old=membership.role,
        role_new=None,
    )
    membership.delete()
