"""Every change to the tracker, one function per action (house style rule 2).

The importer, the admin, the pages, the API and the workers call these and nothing else to
write. Each validates, saves, and records an `ActivityEntry` naming who changed what from what to
what, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify

from core.signals import security_event

from . import events, signals
from .lib import document as d
from .models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Challenge,
    Decision,
    Finding,
    Membership,
    Note,
    Operation,
    Phase,
    PhaseStatus,
    ProgressSnapshot,
    PublicLink,
    Quote,
    Task,
    Workspace,
    WorkspaceMembership,
)
from .selectors import operation_named

Item = TypeVar("Item", bound=models.Model)
Actor = AbstractBaseUser | None


# Rows per INSERT: large enough that 5,000 tasks take a few statements, small enough to stay under
# PostgreSQL's 65,535 parameters per statement (13 columns x 2,000 rows).
BULK_BATCH = 2000


class OperationExists(Exception):
    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"an operation '{slug}' already exists (replace it to import over it)")


class AddressTaken(Exception):
    """Another import took the address this one chose, between its look and its insert."""

    def __init__(self, slug: str):
        self.slug = slug
        # Nothing about whose: it may be another workspace's operation, made at that very moment.
        super().__init__(f"the address '{slug}' was taken while this import ran; import again")


# --- activity -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A field value as JSON for the activity log."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _subject_type(item: models.Model) -> str:
    """'task', 'next step', 'completion criterion', 'blocker'...: what the activity feed calls it."""
    if isinstance(item, Task):
        return item.get_kind_display().lower()
    return str(item._meta.verbose_name)


_attribution: ContextVar[dict[str, Any] | None] = ContextVar("attribution", default=None)


@contextmanager
def attributed(*, actor_name: str, evidence: dict[str, Any]) -> Iterator[None]:
    """Changes made inside are logged as `actor_name`'s, citing `evidence` (a worker acting on a check)."""
    token = _attribution.set({"actor_name": actor_name, "evidence": evidence})
    try:
        yield
    finally:
        _attribution.reset(token)


def activity_record(
    *,
    operation: Operation,
    actor: Actor,
    action: str,
    subject: models.Model,
    changes: dict[str, list[Any]] | None = None,
    actor_name: str = "",
) -> ActivityEntry:
    Operation.objects.filter(pk=operation.pk).update(version=F("version") + 1)
    context = _attribution.get() or {}
    entry = ActivityEntry.objects.create(
        operation=operation,
        actor=_user(actor),
        actor_name=actor_name or context.get("actor_name") or (actor.get_username() if actor is not None else "system"),
        evidence=context.get("evidence", {}),
        action=action,
        subject_type=_subject_type(subject),
        subject_id=subject.pk,
        subject_label=str(subject)[:500],
        changes=changes or {},
    )
    events.announce_activity(entry, subject=subject)
    return entry


def _operation_of(item: models.Model) -> Operation:
    return item if isinstance(item, Operation) else item.operation


# --- generic create / update / delete -------------------------------------------------------------


# Fields whose values stay out of the activity log: the operation is the log's own key, and a
# public link's token hash is a secret's fingerprint.
_NOT_LOGGED = {"operation", "token_hash", "secret"}


def _next_position(model: type[models.Model], **scope: Any) -> int:
    highest = model.objects.filter(**scope).aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def _user(actor: Actor) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.pk else None


# What an imported item says changed it last, as the page shows it beside the item.
IMPORT_NAME = "import"


def _changer_name(actor: Actor) -> str:
    """`updated_by_name` of a change: "" when a person made it (their user is `updated_by`), else
    the check or worker acting, named as the activity log names it ("check: VPC DNS")."""
    if _user(actor) is not None:
        return ""
    context = _attribution.get()
    return context["actor_name"] if context else "system"


@transaction.atomic
def _create(model: type[Item], *, actor: Actor, **fields: Any) -> Item:
    item = model(**fields)
    item.updated_by, item.updated_by_name = _user(actor), _changer_name(actor)
    if "position" in {f.name for f in model._meta.fields} and "position" not in fields:
        scope = {"operation": fields["operation"]}
        if fields.get("phase") is not None:
            scope["phase"] = fields["phase"]
        item.position = _next_position(model, **scope)
    item.full_clean()
    item.save()
    changes = {name: [None, _plain(value)] for name, value in fields.items() if name not in _NOT_LOGGED}
    activity_record(operation=_operation_of(item), actor=actor, action="created", subject=item, changes=changes)
    if isinstance(item, (Task, Phase)):
        progress_record(operation=_operation_of(item))
    return item


@transaction.atomic
def item_update(*, item: Item, actor: Actor, **changes: Any) -> Item:
    """Change fields of any tracker item; record only what really changed."""
    originals: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(item, name)
        if old != value:
            originals[name] = old
            setattr(item, name, value)
    if not originals:
        return item
    try:
        item.full_clean()
    except ValidationError:
        for name, old in originals.items():  # leave the caller's object as the database still has it
            setattr(item, name, old)
        raise
    item.updated_by, item.updated_by_name = _user(actor), _changer_name(actor)
    item.save()
    diff = {name: [_plain(old), _plain(changes[name])] for name, old in originals.items()}
    activity_record(operation=_operation_of(item), actor=actor, action="updated", subject=item, changes=diff)
    if isinstance(item, (Task, Phase, Operation)) and _PROGRESS_FIELDS & originals.keys():
        progress_record(operation=_operation_of(item))
    return item


@transaction.atomic
def item_delete(*, item: models.Model, actor: Actor) -> None:
    operation = _operation_of(item)
    activity_record(operation=operation, actor=actor, action="deleted", subject=item)
    item.delete()
    if isinstance(item, (Task, Phase)):
        progress_record(operation=operation)


# --- progress history -----------------------------------------------------------------------------

# Fields whose change can move a progress figure.
_PROGRESS_FIELDS = {"done", "kind", "phase", "stated_progress", "status"}


def progress_record(*, operation: Operation, at: dt.datetime | None = None) -> list[ProgressSnapshot]:
    """Write a snapshot for the operation and each phase whose progress or counts changed.

    Three queries whatever the size: the phases' counts, the latest snapshots, one bulk insert.
    """
    from .selectors import latest_snapshots, phases_with_progress  # selectors import models only

    at = at or timezone.now()
    phases = list(phases_with_progress().filter(operation=operation))
    overall_progress = operation.stated_progress
    if overall_progress is None:
        overall_progress = round(sum(p.progress for p in phases) / len(phases)) if phases else 0
    figures = {phase.pk: (phase.progress, phase.tasks_done, phase.tasks_total) for phase in phases}
    figures[None] = (overall_progress, sum(p.tasks_done for p in phases), sum(p.tasks_total for p in phases))
    latest = {snap.phase_id: (snap.progress, snap.tasks_done, snap.tasks_total) for snap in latest_snapshots(operation)}
    new = [
        ProgressSnapshot(operation=operation, phase_id=phase_id, at=at, progress=p, tasks_done=done, tasks_total=total)
        for phase_id, (p, done, total) in figures.items()
        if latest.get(phase_id) != (p, done, total)
    ]
    return ProgressSnapshot.objects.bulk_create(new)


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


# --- phases -----------------------------------------------------------------------------------


def phase_create(*, operation: Operation, number: int, title: str, actor: Actor, **fields: Any) -> Phase:
    return _create(Phase, actor=actor, operation=operation, number=number, title=title, **fields)


def phase_update(*, phase: Phase, actor: Actor, **changes: Any) -> Phase:
    """Update a phase; starting or finishing it stamps the time unless one is given."""
    status = changes.get("status")
    now = timezone.now().replace(microsecond=0)
    if status in (PhaseStatus.IN_PROGRESS, PhaseStatus.COMPLETE) and not phase.started_at:
        changes.setdefault("started_at", now)
    if status == PhaseStatus.COMPLETE and not phase.finished_at:
        changes.setdefault("finished_at", now)
    return item_update(item=phase, actor=actor, **changes)


# --- tasks, next steps and completion criteria ------------------------------------------------------


def task_create(
    *,
    operation: Operation,
    title: str,
    actor: Actor,
    kind: str = Task.Kind.TASK,
    phase: Phase | None = None,
    **fields: Any,
) -> Task:
    if fields.get("done"):
        fields.setdefault("done_at", timezone.now().replace(microsecond=0))
    return _create(Task, actor=actor, operation=operation, phase=phase, kind=kind, title=title, **fields)


def task_set_done(*, task: Task, done: bool, actor: Actor) -> Task:
    """Tick or untick a task, next step or completion criterion."""
    return task_update(task=task, actor=actor, done=done)


def task_update(*, task: Task, actor: Actor, **changes: Any) -> Task:
    """Edit a task; ticking it here stamps `done_at` like `task_set_done`."""
    if "done" in changes and changes["done"] != task.done:
        changes["done_at"] = timezone.now().replace(microsecond=0) if changes["done"] else None
    return item_update(item=task, actor=actor, **changes)


# --- the rest of a phase's detail and the operation's lists ------------------------------------------


def challenge_create(*, phase: Phase, title: str, actor: Actor, **fields: Any) -> Challenge:
    fields.pop("operation", None)  # always the phase's
    return _create(Challenge, actor=actor, operation=phase.operation, phase=phase, title=title, **fields)


def finding_create(
    *, operation: Operation, subject: str, verdict: str, actor: Actor, phase: Phase | None = None, **fields: Any
) -> Finding:
    return _create(Finding, actor=actor, operation=operation, phase=phase, subject=subject, verdict=verdict, **fields)


def decision_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Decision:
    return _create(Decision, actor=actor, operation=operation, title=title, **fields)


def achievement_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Achievement:
    return _create(Achievement, actor=actor, operation=operation, title=title, **fields)


def quote_create(*, operation: Operation, text: str, actor: Actor, **fields: Any) -> Quote:
    return _create(Quote, actor=actor, operation=operation, text=text, **fields)


def note_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Note:
    return _create(Note, actor=actor, operation=operation, title=title, **fields)


# --- blockers ---------------------------------------------------------------------------------------


def blocker_open(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Blocker:
    fields.setdefault("opened_at", timezone.now().replace(microsecond=0))
    fields["state"] = Blocker.State.OPEN
    return _create(Blocker, actor=actor, operation=operation, title=title, **fields)


def blocker_resolve(*, blocker: Blocker, actor: Actor, status_text: str | None = None) -> Blocker:
    changes: dict[str, Any] = {"state": Blocker.State.RESOLVED, "resolved_at": timezone.now().replace(microsecond=0)}
    if status_text is not None:
        changes["status_text"] = status_text
    if not blocker.is_open:
        return blocker
    return item_update(item=blocker, actor=actor, **changes)


def blocker_reopen(*, blocker: Blocker, actor: Actor) -> Blocker:
    if blocker.is_open:
        return blocker
    return item_update(item=blocker, actor=actor, state=Blocker.State.OPEN, resolved_at=None)


# --- live checks -----------------------------------------------------------------------------------


def item_mark_checked(*, item: Task | Finding, at: dt.datetime, stale_after: dt.timedelta) -> Task | Finding:
    """Record that a live check looked at this finding or criterion at `at`.

    Called by the ops app on every run; a change of verdict or state goes through the usual
    services and the activity log, this only stamps freshness, so it writes no activity entry
    but still moves the operation's version so open dashboards update their "checked" time.
    """
    type(item).objects.filter(pk=item.pk).update(checked_at=at, check_stale_after=stale_after)
    Operation.objects.filter(pk=item.operation_id).update(version=F("version") + 1)
    item.checked_at, item.check_stale_after = at, stale_after
    return item


def item_record_check(*, item: Task | Finding, verdict: str, observed: str) -> Task | Finding:
    """Keep what a live check saw of this finding or criterion beside the team's words, never in
    them (issue #15): `verdict` is a `LiveVerdict`, `observed` the value as the page shows it.

    A new verdict is a change to the item, logged as the acting check's (inside `attributed`) and
    stamped on the item as such. A new value under the same verdict (a latency, a count) only
    refreshes what the page shows, as `item_mark_checked` refreshes the time: a log entry per run
    would bury the changes people make.
    """
    if verdict != item.live_verdict:
        return item_update(item=item, actor=None, live_verdict=verdict, live_observed=observed)
    if observed != item.live_observed:
        type(item).objects.filter(pk=item.pk).update(live_observed=observed)
        item.live_observed = observed
    return item


# --- workspaces -----------------------------------------------------------------------------------


def _security_event(sender: type[models.Model], event: str, *, user: Actor = None, **details: Any) -> None:
    """Tell whoever listens (the audit app records it) about a change a security review asks about:
    `core.signals.security_event`, sent in this transaction. The tracker imports no app for it."""
    security_event.send(sender=sender, event=event, user=user, **details)


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


# --- people ---------------------------------------------------------------------------------------


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
    from django.contrib.auth import get_user_model

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


# --- import ---------------------------------------------------------------------------------------


@transaction.atomic
def operation_import(
    *, document: d.TrackerDocument, workspace: Workspace, actor: Actor, replace: bool = False
) -> Operation:
    """Create an operation from a parsed document in a workspace, or with `replace` rewrite the
    operation of the same name there.

    Only an operation of the same name that the actor can see counts as existing: one elsewhere, or
    one in this workspace they are not a member of, is never confirmed; the new operation gets a
    free address instead. One transaction and a fixed number of queries whatever the size: the rows
    are bulk-created. Replacing keeps the operation row (and so its id, members and activity
    history) and swaps its content.
    """
    document = d.normalize(document)
    base = _slug_for(document.name)
    operation = _locked_operation(workspace=workspace, base=base, actor=actor)
    if operation is not None and not replace:
        raise OperationExists(operation.slug)
    action = ActivityEntry.Action.REPLACED if operation is not None else ActivityEntry.Action.IMPORTED
    held: list = []
    if operation is None:
        operation = Operation(workspace=workspace, slug=_free_slug(base))
    else:
        held = signals.content_replacing.send(sender=Operation, operation=operation)
        _delete_content(operation)
    _assign_operation_fields(operation, document)
    operation.updated_by, operation.updated_by_name = _user(actor), IMPORT_NAME
    operation.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            operation.save()
    except IntegrityError:
        # Another import took the address between our look and our insert.
        raise AddressTaken(operation.slug) from None
    counts = _create_content(operation, document, by=_user(actor))
    for receiver, state in held:
        signals.content_replaced.send(sender=receiver, operation=operation, state=state)
    progress_record(operation=operation)
    if action == ActivityEntry.Action.IMPORTED and _user(actor):
        Membership.objects.create(operation=operation, user=actor, role=Membership.Role.ADMIN)
    activity_record(
        operation=operation,
        actor=actor,
        action=action,
        subject=operation,
        changes={name: [None, count] for name, count in counts.items() if count},
    )
    return operation


def _locked_operation(*, workspace: Workspace, base: str, actor: Actor) -> Operation | None:
    """The operation of the workspace whose name makes `base` and that the actor can see, locked
    until the import commits, or None."""
    candidates = operation_named(workspace=workspace, base_slug=base, user=_user(actor))
    for operation in candidates.select_for_update():
        if _slug_for(operation.name) == base:
            return operation
    return None


def _delete_content(operation: Operation) -> None:
    """Delete the items, leaves first, one statement each whatever the size.

    `_raw_delete` is Django's own fast delete. `QuerySet.delete()` would fetch every row first:
    other apps point at tasks, findings and blockers (ops' checks, on_delete=SET_NULL), and it
    cannot know they let go of them (`content_replacing`, sent before this), so 5,000 tasks took
    90 queries instead of one.
    """
    for model in (Task, Challenge, Finding, Blocker, Decision, Achievement, Quote, Note):
        model.objects.filter(operation=operation)._raw_delete(using=router.db_for_write(model))
    Phase.objects.filter(operation=operation).delete()  # its progress history cascades


# What an operation row holds of a document; the rest goes into the related rows.
_CONTENT_LISTS = ("phases", "next_steps", "decisions", "blockers", "achievements", "quotes", "notes")


def _assign_operation_fields(operation: Operation, document: d.TrackerDocument) -> None:
    for name, value in d.item_fields(document, exclude=("sections", "current_phase", *_CONTENT_LISTS)).items():
        setattr(operation, name, value)
    operation.layout = [d.item_fields(section) for section in document.sections]
    operation.current_phase = None  # set once the phases exist


def _positioned(rows: Iterable[models.Model]) -> list[models.Model]:
    """Number rows in document order and check their fields (lengths, choices) without queries."""
    rows = list(rows)
    for position, row in enumerate(rows):
        row.position = position
        row.clean_fields(exclude=["operation", "phase", "updated_by"])
    return rows


def _checked(row: models.Model) -> models.Model:
    row.clean_fields(exclude=["operation", "updated_by"])
    return row


def _create_content(
    operation: Operation, document: d.TrackerDocument, *, by: AbstractBaseUser | None
) -> dict[str, int]:
    own = {"operation": operation, "updated_by": by, "updated_by_name": IMPORT_NAME}
    phases = Phase.objects.bulk_create(
        _checked(
            Phase(
                **own,
                duration=dt.timedelta(seconds=p.duration_seconds) if p.duration_seconds is not None else None,
                **d.item_fields(p, exclude=("duration_seconds", *d.PHASE_ITEM_LISTS)),
            )
        )
        for p in document.phases
    )
    by_number = {phase.number: phase for phase in phases}
    if document.current_phase is not None:
        operation.current_phase = by_number[document.current_phase]
        operation.save(update_fields=["current_phase"])

    tasks: list[Task] = []
    challenges: list[Challenge] = []
    findings: list[Finding] = []
    for p in document.phases:
        on = {**own, "phase": by_number[p.number]}
        tasks += _positioned(Task(**on, kind=Task.Kind.TASK, **d.item_fields(t)) for t in p.tasks)
        tasks += _positioned(Task(**on, kind=Task.Kind.CRITERION, **d.item_fields(t)) for t in p.completion_criteria)
        challenges += _positioned(Challenge(**on, **d.item_fields(c)) for c in p.challenges)
        findings += _positioned(Finding(**on, **d.item_fields(f)) for f in p.findings)
    tasks += _positioned(Task(**own, kind=Task.Kind.NEXT_STEP, **d.item_fields(s)) for s in document.next_steps)
    blockers = (
        Blocker(
            **own,
            state=Blocker.State.RESOLVED if b.resolved else Blocker.State.OPEN,
            **d.item_fields(b, exclude=("resolved",)),
        )
        for b in document.blockers
    )
    created = {
        "phases": phases,
        "tasks": Task.objects.bulk_create(tasks, batch_size=BULK_BATCH),
        "challenges": Challenge.objects.bulk_create(challenges, batch_size=BULK_BATCH),
        "findings": Finding.objects.bulk_create(findings, batch_size=BULK_BATCH),
        "decisions": Decision.objects.bulk_create(
            _positioned(Decision(**own, **d.item_fields(x)) for x in document.decisions)
        ),
        "blockers": Blocker.objects.bulk_create(_positioned(blockers)),
        "achievements": Achievement.objects.bulk_create(
            _positioned(Achievement(**own, **d.item_fields(x)) for x in document.achievements)
        ),
        "quotes": Quote.objects.bulk_create(_positioned(Quote(**own, text=q) for q in document.quotes)),
        "notes": Note.objects.bulk_create(_positioned(Note(**own, **d.item_fields(n)) for n in document.notes)),
    }
    return {name: len(rows) for name, rows in created.items()}
