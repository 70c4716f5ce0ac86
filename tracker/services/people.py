"""An operation's people and public links: roles given, changed and taken away (each audited),
and read-only links whose token is shown once."""

from __future__ import annotations

import hashlib
import secrets
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from ..models import Membership, Operation, PublicLink, WorkspaceMembership
from .activity import Actor, _security_event, _user
from .base import _create, item_delete, item_update


def _audit_membership(event: str, membership: Membership, *, actor: Actor, old_role: str | None) -> None:
    """The security side of a role change: an audit entry naming the actor, the member and the roles."""
    _security_event(
        Membership,
        event,
        user=_user(actor),
        operation=membership.operation.slug,
        member_id=membership.user_id,
        member=membership.user.get_username(),
        role_old=None if old_role is None else str(old_role),
        role_new=None if event == "membership_revoked" else str(membership.role),
    )


@transaction.atomic
def membership_set(*, operation: Operation, user: AbstractBaseUser, role: str, actor: Actor) -> Membership:
    """Give a user a role in an operation, or change the role they have. Only members of the
    operation's workspace can have one: a workspace admin adds people to the workspace first."""
    if not WorkspaceMembership.objects.filter(workspace_id=operation.workspace_id, user=user).exists():
        raise ValidationError({"user": "No such member of this workspace."})
    membership = Membership.objects.select_for_update().filter(operation=operation, user=user).first()
    if membership is None:
        membership = _create(Membership, actor=actor, operation=operation, user=user, role=role)
        _audit_membership("membership_granted", membership, actor=actor, old_role=None)
        return membership
    old_role = membership.role
    membership = item_update(item=membership, actor=actor, role=role)
    if membership.role != old_role:
        _audit_membership("membership_role_changed", membership, actor=actor, old_role=old_role)
    return membership


# The membership `membership_remove` is deleting and who asks, for `membership_deleted` to name.
_removing: ContextVar[tuple[int, Actor] | None] = ContextVar("membership_removing", default=None)


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    removing = _removing.set((membership.pk, actor))
    try:
        item_delete(item=membership, actor=actor)
    finally:
        _removing.reset(removing)


def membership_deleted(sender: Any, instance: Membership, origin: Any = None, **_: Any) -> None:
    """post_delete of a Membership: every revocation is audited, the ones no service made too. A
    membership that goes with its user or its operation (a cascade: the admin deleting a user, an
    operation deleted) is recorded with no actor and what it went with."""
    removing = _removing.get()
    if removing is not None and removing[0] == instance.pk:
        _audit_membership("membership_revoked", instance, actor=removing[1], old_role=instance.role)
        return
    with_what = type(origin).__name__.lower() if isinstance(origin, models.Model) else "query"
    _security_event(
        Membership,
        "membership_revoked",
        operation=_slug_of(instance.operation_id),
        member_id=instance.user_id,
        member=_username_of(instance.user_id),
        role_old=str(instance.role),
        role_new=None,
        deleted_with=with_what,
    )


def _slug_of(operation_id: int) -> str | None:
    return Operation.objects.filter(pk=operation_id).values_list("slug", flat=True).first()


def _username_of(user_id: int) -> str | None:
    model = get_user_model()
    return model.objects.filter(pk=user_id).values_list(model.USERNAME_FIELD, flat=True).first()


@transaction.atomic
def public_link_create(
    *, operation: Operation, actor: Actor, label: str = "", shows_infrastructure: bool = False
) -> tuple[PublicLink, str]:
    """Make a read-only link; returns it with its token, which is shown once and never stored.
    `shows_infrastructure`: its live checks show ENI ids, addresses, deployment and account ids."""
    token = secrets.token_urlsafe(32)
    link = _create(
        PublicLink,
        actor=actor,
        operation=operation,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        label=label,
        shows_infrastructure=shows_infrastructure,
        created_by=_user(actor),
    )
    return link, token


def public_link_revoke(*, link: PublicLink, actor: Actor) -> PublicLink:
    if not link.is_active:
        return link
    return item_update(item=link, actor=actor, revoked_at=timezone.now().replace(microsecond=0))
