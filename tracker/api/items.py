"""An operation's content: phases, tasks (and next steps and completion criteria), findings,
blockers, decisions, achievements, its activity log and its members.

Each write calls the same service as the dashboard's forms, so the activity log, progress history
and webhooks follow API changes exactly as they follow clicks.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..models import Achievement, ActivityEntry, Blocker, Decision, Finding, Membership, Phase, Task
from ..permissions import Role
from ..selectors import phases_with_progress, workspace_member_named
from . import filters
from .base import ItemViewSet, OperationScoped, PhaseField, StrictModelSerializer, StrictSerializer

# `updated_by_name`: who changed it when no person did ("check: VPC DNS", "import").
TIMESTAMPS = ["created_at", "updated_at", "updated_by", "updated_by_name"]


# --- phases ---------------------------------------------------------------------------------------


class PhaseSerializer(StrictModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    derived_progress = serializers.IntegerField(read_only=True, allow_null=True)
    tasks_total = serializers.SerializerMethodField()
    tasks_done = serializers.SerializerMethodField()

    class Meta:
        model = Phase
        fields = [
            "number",
            "title",
            "status",
            "progress",
            "stated_progress",
            "derived_progress",
            "tasks_done",
            "tasks_total",
            "duration",
            "started_at",
            "finished_at",
            "current_focus",
            "achievement",
            *TIMESTAMPS,
        ]

    def get_tasks_total(self, phase: Phase) -> int:
        return phase._task_counts()[0]

    def get_tasks_done(self, phase: Phase) -> int:
        return phase._task_counts()[1]


class PhaseViewSet(ItemViewSet):
    """The operation's phases, by number. Completing one stamps its start and finish times.

    Deleting one takes its tasks, criteria and findings with it, with no undo: admins only."""

    model = Phase
    serializer_class = PhaseSerializer
    filterset_class = filters.PhaseFilter
    lookup_field = "number"
    delete_role = Role.ADMIN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Phase.objects.none()
        return phases_with_progress().filter(operation=self.operation).select_related("updated_by")

    def save_new(self, data):
        return services.phase_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.phase_edit(phase=item, actor=self.request.user, **data)


# --- tasks, next steps and completion criteria ------------------------------------------------------


class CheckedMixin(serializers.Serializer):
    """When a live check last confirmed the item, whether that look is too old to trust, and what
    it saw (`live_verdict`, `live_observed`): beside the team's words, which it never changes."""

    checked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    stale = serializers.SerializerMethodField()
    live_verdict = serializers.CharField(read_only=True, help_text="pass or fail; empty until a check answers.")
    live_observed = serializers.CharField(read_only=True)

    def get_stale(self, item) -> bool:
        return item.is_stale()


class TaskSerializer(CheckedMixin, StrictModelSerializer):
    phase = PhaseField(allow_null=True, required=False)

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "phase",
            "group",
            "title",
            "detail",
            "done",
            "done_at",
            "icon",
            "position",
            "checked_at",
            "stale",
            "live_verdict",
            "live_observed",
            *TIMESTAMPS,
        ]
        read_only_fields = ["done_at", "position"]


class TaskViewSet(ItemViewSet):
    """Tasks, next steps (`kind=next_step`, no phase) and completion criteria (`kind=criterion`).

    PATCH `{"done": true}` ticks one (and stamps `done_at`); `{"done": false}` reopens it.
    """

    model = Task
    serializer_class = TaskSerializer
    filterset_class = filters.TaskFilter

    def get_queryset(self):
        return super().get_queryset().select_related("phase")

    def save_new(self, data):
        return services.task_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.task_edit(task=item, actor=self.request.user, **data)


# --- findings ---------------------------------------------------------------------------------------


class FindingSerializer(CheckedMixin, StrictModelSerializer):
    phase = PhaseField(allow_null=True, required=False)

    class Meta:
        model = Finding
        fields = [
            "id",
            "phase",
            "subject",
            "observed",
            "expected",
            "verdict",
            "note",
            "position",
            "checked_at",
            "stale",
            "live_verdict",
            "live_observed",
            *TIMESTAMPS,
        ]
        read_only_fields = ["position"]


class FindingViewSet(ItemViewSet):
    """What an investigation looked at, what it saw, and whether that is right."""

    model = Finding
    serializer_class = FindingSerializer
    filterset_class = filters.FindingFilter

    def get_queryset(self):
        return super().get_queryset().select_related("phase")

    def save_new(self, data):
        return services.finding_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.finding_edit(finding=item, actor=self.request.user, **data)


# --- blockers ---------------------------------------------------------------------------------------


class BlockerSerializer(StrictModelSerializer):
    class Meta:
        model = Blocker
        fields = [
            "id",
            "severity",
            "title",
            "description",
            "impact",
            "status_text",
            "state",
            "opened_at",
            "resolved_at",
            "position",
            *TIMESTAMPS,
        ]
        read_only_fields = ["state", "opened_at", "resolved_at", "position"]


class ResolveSerializer(StrictSerializer):
    status_text = serializers.CharField(
        required=False, allow_blank=False, help_text="How it was resolved; leave out to keep the current status text."
    )


class BlockerViewSet(ItemViewSet):
    """Blockers: POST opens one; `resolve` and `reopen` move it; `state=open` lists the open ones."""

    model = Blocker
    serializer_class = BlockerSerializer
    filterset_class = filters.BlockerFilter

    def save_new(self, data):
        return services.blocker_open(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.blocker_edit(blocker=item, actor=self.request.user, **data)

    @extend_schema(request=ResolveSerializer, responses={200: BlockerSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, operation_slug: str, pk: str):
        """Resolve a blocker (a no-op if it already is)."""
        blocker = self.get_object()
        given = ResolveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        blocker = services.blocker_resolve(
            blocker=blocker, actor=request.user, status_text=given.validated_data.get("status_text")
        )
        return Response(BlockerSerializer(blocker, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: BlockerSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, operation_slug: str, pk: str):
        """Reopen a resolved blocker (a no-op if it is open)."""
        blocker = services.blocker_reopen(blocker=self.get_object(), actor=request.user)
        return Response(BlockerSerializer(blocker, context=self.get_serializer_context()).data)


# --- decisions and achievements -----------------------------------------------------------------------


class DecisionSerializer(StrictModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "group", "title", "detail", "position", *TIMESTAMPS]
        read_only_fields = ["position"]


class DecisionViewSet(ItemViewSet):
    model = Decision
    serializer_class = DecisionSerializer
    filterset_class = filters.DecisionFilter

    def save_new(self, data):
        return services.decision_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.decision_edit(decision=item, actor=self.request.user, **data)


class AchievementSerializer(StrictModelSerializer):
    class Meta:
        model = Achievement
        fields = ["id", "category", "icon", "title", "detail", "position", *TIMESTAMPS]
        read_only_fields = ["position"]


class AchievementViewSet(ItemViewSet):
    model = Achievement
    serializer_class = AchievementSerializer
    filterset_class = filters.AchievementFilter

    def save_new(self, data):
        return services.achievement_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.achievement_edit(achievement=item, actor=self.request.user, **data)


# --- the activity log -------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(allow_null=True), min_length=2, max_length=2),
        read_only=True,
        help_text="{field: [old value, new value]}",
    )

    class Meta:
        model = ActivityEntry
        fields = ["id", "at", "actor", "action", "subject_type", "subject_id", "subject_label", "changes"]


class ActivityViewSet(OperationScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every change to the operation, newest first."""

    serializer_class = ActivitySerializer
    filterset_class = filters.ActivityFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActivityEntry.objects.none()
        return ActivityEntry.objects.filter(operation=self.operation)


# --- members ----------------------------------------------------------------------------------------


class MemberSerializer(StrictModelSerializer):
    username = serializers.CharField(source="user.username", max_length=150)

    class Meta:
        model = Membership
        fields = ["username", "role", *TIMESTAMPS]

    def validate_username(self, username: str):
        # Only the operation's workspace's members can have a role in it; anyone else is answered
        # like a name nobody has, so this is no way to learn who has an account.
        user = workspace_member_named(workspace=self.context["view"].operation.workspace, username=username)
        if user is None:
            raise serializers.ValidationError("No member of this workspace has that name.")
        return user


class RoleSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class MemberViewSet(ItemViewSet):
    """Who may see and change the operation. Admins only. POST adds a member or changes the role
    of an existing one; PATCH changes a role; DELETE removes a member."""

    model = Membership
    serializer_class = MemberSerializer
    read_role = write_role = Role.ADMIN
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    lookup_value_regex = r"[\w.@+-]+"

    def get_queryset(self):
        return super().get_queryset().select_related("user").order_by("user__username")

    def get_serializer_class(self):
        return RoleSerializer if self.action == "partial_update" else MemberSerializer

    def save_new(self, data):
        return services.membership_set(
            operation=self.operation, user=data["user"]["username"], role=data["role"], actor=self.request.user
        )

    @extend_schema(request=RoleSerializer, responses={200: MemberSerializer})
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        given = RoleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        membership = services.membership_set(
            operation=self.operation, user=membership.user, role=given.validated_data["role"], actor=request.user
        )
        return Response(MemberSerializer(membership, context=self.get_serializer_context()).data)

    def remove(self, item) -> None:
        services.membership_remove(membership=item, actor=self.request.user)
