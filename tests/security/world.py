"""Two operations full of content, the people around them, and the value of every route parameter.

Operation A ("alpha") holds something of every kind the application stores for an operation, each
carrying A's marker string in a title, a note, a message or a payload: phases, tasks, criteria,
next steps, a challenge, findings, blockers (open and resolved), decisions, achievements, a quote,
a note, members, public links (active and revoked), a webhook with its delivery log (a receiver's
reply included), a live check with a run and a flip, and a served ML model linked to it. Its
activity log and progress history follow from the services. Operation B ("bravo") is built the
same way with its own marker.

People: the suite's one cast (tests/cast.py): owner administers A, teammate edits it and viewer
views it; outsider administers B and rival edits it; nobody belongs to nothing; newbie is who gets
added in write tests; admin is the superuser (the only one the admin lets in). Each one's password
is `cast.password(name)`; owner, outsider and nobody have API tokens.

`values()` gives each route parameter its value from one side (`Side`), for a kind of request:
A's own objects, B's (the outsider's own), B's operation with A's objects in it, or objects that do
not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import skops.io
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token
from sklearn.linear_model import LogisticRegression

from mlservice import registry
from mlservice.models import RegisteredModel
from notify import reports as notify_reports
from notify import services as notify_services
from notify.models import Channel, StatusReport
from ops import services as ops_services
from ops.models import AwsEnvironment, Check, CheckFlip, CheckRun
from tests import cast
from tracker import services, webhooks
from tracker.models import (
    Achievement,
    Blocker,
    Decision,
    Finding,
    Membership,
    Operation,
    Phase,
    PublicLink,
    Task,
    Webhook,
    WebhookDelivery,
    Workspace,
    WorkspaceMembership,
)

from .sweep import Route, Unfillable

A_MARKER = "qzxALPHAsecret"  # in A's content only; never in a URL, a slug, a username or a model name
B_MARKER = "qzxBRAVOsecret"
# An IP literal needs no DNS lookup and is a public address, so webhook validation accepts it; nothing
# is sent to it (deliveries wait for a commit, which never comes inside a test's transaction).
WEBHOOK_URL = "https://93.184.216.34/sweep-hook"
MISSING_ID = 987654321


@dataclass
class Side:
    """One operation and the objects of it that route parameters name."""

    operation: Operation
    marker: str
    admin: Any
    editor: Any
    current_phase: Phase
    other_phase: Phase
    task: Task  # pending, in the current phase: its tick box is on the dashboard
    blocker: Blocker  # open
    resolved_blocker: Blocker
    finding: Finding
    decision: Decision
    achievement: Achievement
    editor_membership: Membership
    link: PublicLink
    link_token: str
    revoked_link: PublicLink
    revoked_token: str
    webhook: Webhook
    webhook_secret: str
    check: Check
    model: RegisteredModel
    workspace: Workspace
    environment: AwsEnvironment
    editor_workspace_membership: WorkspaceMembership
    channel: Channel  # the operation's notification channel
    workspace_channel: Channel
    channel_secret: str  # the password in both channels' URLs
    report: StatusReport

    @property
    def secrets(self) -> list[str]:
        """What nobody outside the operation may ever read: its marker (in all its content), its
        webhook's signing secret, its active public link's token and its channels' password."""
        return [self.marker, self.webhook_secret, self.link_token, self.channel_secret]

    @property
    def slug(self) -> str:
        return self.operation.slug


@dataclass
class World:
    a: Side
    b: Side
    users: dict[str, Any]
    tokens: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:  # world.owner, world.outsider...
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def _model_artifact(folder: Path) -> Path:
    """A tiny scikit-learn model in a skops file: 4 features, 2 classes."""
    X = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.2, 0.1, 0.0], [0.9, 0.8, 1.0, 1.0]])
    y = np.array([0, 1, 0, 1])
    path = folder / "sweep-model.skops"
    skops.io.dump(LogisticRegression().fit(X, y), path)
    return path


def _side(*, title: str, slug: str, marker: str, admin, editor, viewer, artifact: Path) -> Side:
    now = timezone.now().replace(microsecond=0)
    # Each side is its own team, its admin the workspace's admin too: the sweep's outsider holds
    # every role there is, just in another workspace.
    workspace = services.workspace_create(name=f"Team {title}", slug=f"team-{slug}", actor=None)
    for person, role in ((admin, "admin"), (editor, "member"), (viewer, "member")):
        services.workspace_member_set(workspace=workspace, user=person, role=role, actor=None)
    environment = ops_services.environment_create(
        workspace=workspace, name=f"{slug}-aws", account_id="123456789012", regions=["us-east-1"]
    )
    operation = services.operation_create(
        workspace=workspace,
        name=f"Operation {title} {marker}",
        slug=slug,
        actor=admin,
        status="in_progress",
        motto=f"Motto {marker}",
        footer=f"Footer {marker}",
    )
    membership = services.membership_set(operation=operation, user=editor, role="editor", actor=admin)
    services.membership_set(operation=operation, user=viewer, role="viewer", actor=admin)
    # First, so that the changes below are events with deliveries in its log.
    webhook, secret = webhooks.webhook_create(
        operation=operation, url=f"{WEBHOOK_URL}/{marker}", actor=admin, label=f"Deploy bot {marker}"
    )
    done = services.phase_create(
        operation=operation, number=1, title=f"Discovery {marker}", status="complete", actor=admin
    )
    current = services.phase_create(
        operation=operation,
        number=2,
        title=f"Rollout {marker}",
        status="in_progress",
        current_focus=f"Focus {marker}",
        actor=admin,
    )
    services.phase_create(operation=operation, number=3, title=f"Handover {marker}", actor=admin)
    services.operation_set_current_phase(operation=operation, phase=current, actor=admin)
    task = services.task_create(
        operation=operation, phase=current, title=f"Pending task {marker}", detail=f"Detail {marker}", actor=admin
    )
    ticked = services.task_create(operation=operation, phase=current, title=f"Done task {marker}", actor=admin)
    services.task_set_done(task=ticked, done=True, actor=admin)
    services.task_create(operation=operation, phase=current, kind="criterion", title=f"Criterion {marker}", actor=admin)
    services.task_create(operation=operation, kind="next_step", title=f"Next step {marker}", actor=admin)
    services.task_create(operation=operation, phase=done, title=f"Old task {marker}", done=True, actor=admin)
    services.challenge_create(phase=current, title=f"Challenge {marker}", actor=admin)
    finding = services.finding_create(
        operation=operation,
        phase=current,
        subject=f"Finding {marker}",
        verdict="wrong",
        observed=f"Observed {marker}",
        note=f"Note {marker}",
        actor=admin,
    )
    blocker = services.blocker_open(
        operation=operation, title=f"Open blocker {marker}", description=f"Why {marker}", actor=admin
    )
    resolved = services.blocker_open(operation=operation, title=f"Resolved blocker {marker}", actor=admin)
    services.blocker_resolve(blocker=resolved, status_text=f"Fixed {marker}", actor=admin)
    decision = services.decision_create(operation=operation, title=f"Decision {marker}", actor=admin)
    achievement = services.achievement_create(operation=operation, title=f"Achievement {marker}", actor=admin)
    services.quote_create(operation=operation, text=f"Quote {marker}", actor=admin)
    services.note_create(operation=operation, title=f"Note title {marker}", body=f"Body {marker}", actor=admin)
    link, link_token = services.public_link_create(operation=operation, label=f"Steering {marker}", actor=admin)
    revoked, revoked_token = services.public_link_create(operation=operation, label=f"Old {marker}", actor=admin)
    services.public_link_revoke(link=revoked, actor=admin)

    check = ops_services.check_create(
        operation=operation,
        name=f"Health {marker}",
        type="http_endpoint",
        params={"url": f"http://127.0.0.1:9/{slug}"},
        finding=finding,
        actor=admin,
    )
    run = CheckRun.objects.create(
        live_check=check,
        run_id=uuid.uuid4(),
        status="fail",
        observed=f"Seen {marker}",
        evidence={"body": f"Evidence {marker}"},
        message=f"Run message {marker}",
        started_at=now,
        duration_ms=12,
    )
    CheckFlip.objects.create(live_check=check, run=run, from_status="pending", to_status="fail", at=now)
    Check.objects.filter(pk=check.pk).update(
        status="fail", observed=f"Seen {marker}", message=f"Check message {marker}", last_run_at=now
    )
    # What a receiver answered, as the delivery worker records it.
    WebhookDelivery.objects.filter(webhook=webhook).update(
        status="failed",
        attempts=1,
        response_status=500,
        response_excerpt=f"Receiver says {marker}",
        error=f"Error {marker}",
        last_attempt_at=now,
    )
    assert WebhookDelivery.objects.filter(webhook=webhook).exists(), "no event reached the webhook"

    registry.register_version(
        name=f"{slug}-model",
        uri=str(artifact),
        version="1",
        trust=[],
        alias="production",
        operation=operation,
        workspace=workspace,
    )
    # A report first, then the channels: nothing is sent while the world is built.
    report = notify_reports.report_send(operation=operation, trigger=StatusReport.Trigger.DEMAND, actor=admin)
    channel_secret = f"chan-{uuid.uuid4().hex}"
    channel = notify_services.channel_create(
        operation=operation, url=f"jsons://deploy:{channel_secret}@93.184.216.34/{marker}", actor=admin
    )
    workspace_channel = notify_services.channel_create(
        workspace=workspace, url=f"jsons://deploy:{channel_secret}@93.184.216.34/ws-{marker}", actor=admin
    )
    # Paused, as after failures in a row: its page then shows the resume form the sweeps post.
    Channel.objects.filter(pk__in=[channel.pk, workspace_channel.pk]).update(
        paused_at=now, paused_reason=f"Failed 5 times {marker}", consecutive_failures=5
    )
    operation.refresh_from_db()
    return Side(
        operation=operation,
        marker=marker,
        admin=admin,
        editor=editor,
        current_phase=current,
        other_phase=done,
        task=task,
        blocker=blocker,
        resolved_blocker=resolved,
        finding=finding,
        decision=decision,
        achievement=achievement,
        editor_membership=membership,
        link=link,
        link_token=link_token,
        revoked_link=revoked,
        revoked_token=revoked_token,
        webhook=webhook,
        webhook_secret=secret,
        check=check,
        model=RegisteredModel.objects.get(name=f"{slug}-model"),
        workspace=workspace,
        environment=environment,
        editor_workspace_membership=WorkspaceMembership.objects.get(workspace=workspace, user=editor),
        channel=channel,
        workspace_channel=workspace_channel,
        channel_secret=channel_secret,
        report=report,
    )


def build(folder: Path) -> World:
    users = {name: cast.make(name) for name in cast.CAST}
    artifact = _model_artifact(folder)
    a = _side(
        title="Alpha",
        slug="alpha",
        marker=A_MARKER,
        admin=users["owner"],
        editor=users["teammate"],
        viewer=users["viewer"],
        artifact=artifact,
    )
    b = _side(
        title="Bravo",
        slug="bravo",
        marker=B_MARKER,
        admin=users["outsider"],
        editor=users["rival"],
        viewer=users["nobody"],
        artifact=artifact,
    )
    # nobody belongs to nothing: the viewer seat of B was only to build it the same way.
    Membership.objects.filter(user=users["nobody"]).delete()
    WorkspaceMembership.objects.filter(user=users["nobody"]).delete()
    # newbie, whom write tests add to operations, is in both teams with no operation role.
    for side in (a, b):
        services.workspace_member_set(workspace=side.workspace, user=users["newbie"], role="member", actor=None)
    tokens = {name: Token.objects.create(user=users[name]).key for name in ("owner", "outsider", "nobody")}
    return World(a=a, b=b, users=users, tokens=tokens)


# --- route parameters ---------------------------------------------------------------------------------

# `<pk>` after these path segments: the object of the side it names.
PK_OBJECTS = {
    "tasks": lambda side: side.task,
    "blockers": lambda side: side.blocker,
    "findings": lambda side: side.finding,
    "decisions": lambda side: side.decision,
    "achievements": lambda side: side.achievement,
    "members": lambda side: side.editor_membership,
    "links": lambda side: side.link,
    "webhooks": lambda side: side.webhook,
    "checks": lambda side: side.check,
    "notifications": lambda side: side.channel,
    "reports": lambda side: side.report,
}
# Routes that need another object of the same kind than PK_OBJECTS gives (a blocker to reopen is resolved).
PK_OVERRIDES = {
    "tracker:workspace-member-remove": lambda side: side.editor_workspace_membership,
    "tracker:blocker-reopen": lambda side: side.resolved_blocker,
    "operation-blockers-reopen": lambda side: side.resolved_blocker,
    **{
        f"notify:workspace-channel-{action}": lambda side: side.workspace_channel
        for action in ("test", "edit", "resume", "delete")
    },
}


def _admin_model(route: Route):
    parts = route.pattern.split("/")
    if len(parts) >= 3 and parts[0] == "admin":
        try:
            return apps.get_model(parts[1], parts[2])
        except LookupError:
            return None
    return None


def _admin_object_id(route: Route, side: Side | None, world: World) -> Any:
    """An object of the route's admin model that belongs to the side (or any, for global models)."""
    model = _admin_model(route)
    if route.name == "admin:view_on_site":
        return side.operation.pk if side else MISSING_ID
    if model is None or side is None:
        return MISSING_ID
    if model is Operation:
        return side.operation.pk
    if model._meta.model_name in ("token", "tokenproxy"):
        return world.tokens.get(side.admin.username, MISSING_ID)
    if model is get_user_model():
        return side.admin.pk
    names = {f.name for f in model._meta.get_fields()}
    if model is Workspace:
        return side.workspace.pk
    for path in (
        "operation",
        "webhook__operation",
        "live_check__operation",
        "model__operation",
        "workspace__operations",
    ):
        if path.split("__")[0] in names:
            found = model.objects.filter(**{path: side.operation}).order_by("pk").values_list("pk", flat=True).first()
            return found if found is not None else MISSING_ID
    found = model.objects.order_by("pk").values_list("pk", flat=True).first()  # global: schedules, audit
    return found if found is not None else MISSING_ID


def values(route: Route, world: World, *, operation: Side | None, objects: Side | None, for_write: bool = False):
    """Every parameter of `route`: the operation's slug from `operation`, the objects from `objects`
    (None: ones that do not exist). `for_write`: the tokens a member's own request would carry
    (a valid password-reset link) rather than ones that open nothing."""
    found: dict[str, Any] = {}
    for name in route.params:
        if name in ("slug", "operation_slug"):
            found[name] = operation.slug if operation else "no-such-operation"
        elif name == "workspace_slug":
            found[name] = operation.workspace.slug if operation else "no-such-workspace"
        elif name == "pk":
            segment = route.segment_before(name)
            if segment == "aws-environments":
                found[name] = objects.environment.pk if objects else MISSING_ID
            elif segment not in PK_OBJECTS:
                raise Unfillable(f"pk after {segment!r}: add it to PK_OBJECTS")
            else:
                pick = PK_OVERRIDES.get(route.name, PK_OBJECTS[segment])
                found[name] = pick(objects).pk if objects else MISSING_ID
        elif name == "number":
            found[name] = objects.current_phase.number if objects else 987
        elif name == "username":
            found[name] = objects.editor.username if objects else "no-such-user"
        elif name == "name":
            found[name] = objects.model.name if objects else "no-such-model"
        elif name == "version":
            found[name] = "1"
        elif name == "token" and route.name == "tracker:public":
            # A revoked link: whoever holds it must get nothing (a member's page: the active one).
            if objects is None:
                found[name] = "no-such-token"
            else:
                found[name] = objects.link_token if for_write else objects.revoked_token
        elif name == "uidb64":
            found[name] = urlsafe_base64_encode(force_bytes(world.owner.pk))
        elif name == "token" and route.name == "password_reset_confirm":
            found[name] = default_token_generator.make_token(world.owner) if for_write else "no-such-reset-token"
        elif name == "object_id":
            found[name] = _admin_object_id(route, objects, world)
        elif name == "content_type_id":
            found[name] = ContentType.objects.get_for_model(Operation).pk
        elif name == "id":  # admin/auth/user/<id>/password/
            found[name] = objects.admin.pk if objects else MISSING_ID
        elif name == "app_label":
            found[name] = "tracker"
        elif name == "url":  # the admin's catch-all
            found[name] = f"tracker/operation/{objects.operation.pk if objects else MISSING_ID}/change"
        else:
            raise Unfillable(f"{name}: add a value to tests/security/world.py values()")
    return found


# Parameters whose value is not the operation's nor one of its objects.
GLOBAL_PARAMS = {"app_label", "uidb64"}


def is_scoped(route: Route) -> bool:
    """Whether the route is about one operation or something in it (some parameter names it). Every
    admin route counts as such but its login page: the admin is for superusers, nobody else gets
    anything from it, whatever the object."""
    if route.is_admin:
        return route.name != "admin:login"
    for name in route.params:
        if name in GLOBAL_PARAMS:
            continue
        if name == "token" and route.name == "password_reset_confirm":
            continue
        return True
    return False
