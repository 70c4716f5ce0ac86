"""The checks of an operation in the REST API, on the tracker API's conventions (roles, strict
input, one error shape): `/api/operations/{slug}/checks/` with each check's runs, and
`/api/aws-environments/`: the environments of the caller's workspaces (superusers: all), read by
their members and added, changed and deleted by their admins. Another workspace's environment does
not exist here: not listed, a 404 by id, "No such AWS environment." when a check names it."""

from __future__ import annotations

from django.urls import include, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api import StrictModelSerializer, StrictSerializer
from tracker.access import ItemViewSet, OperationScoped
from tracker.models import Blocker, Finding, Task, Workspace
from tracker.permissions import Role
from tracker.selectors import administered_workspaces, workspaces_of

from . import selectors, services
from .checks.base import registry
from .diagnosis import STEP_SLUGS, VERDICTS, diagnose_ecs
from .models import REGION, AwsEnvironment, Check, CheckRun


def aws_check_types() -> list[str]:
    """The codes an environment's `check_types` may name: the types that look at AWS."""
    return sorted(code for code, kind in registry.items() if kind.needs_aws)


class WorkspaceField(serializers.SlugRelatedField):
    """One of the caller's workspaces, by slug; any other is answered as if it did not exist."""

    default_error_messages = {
        "does_not_exist": "No such workspace: '{value}'.",
        "invalid": "A workspace's slug.",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return workspaces_of(request.user) if request is not None else Workspace.objects.none()


class EnvironmentSerializer(StrictModelSerializer):
    workspace = WorkspaceField(
        required=False,
        help_text="Its workspace (slug). On creation: needed when you administer several; it never moves.",
    )
    regions = serializers.ListField(
        child=serializers.CharField(max_length=30, validators=[REGION]),
        allow_empty=False,
        help_text='The regions checks may look at, e.g. ["us-east-1"].',
    )
    check_types = serializers.ListField(
        child=serializers.ChoiceField(choices=[]),
        required=False,
        help_text="The check types allowed to use it (codes of types that look at AWS); empty: every type.",
    )

    class Meta:
        model = AwsEnvironment
        fields = ["id", "workspace", "name", "account_id", "regions", "check_types", "role_arn", "external_id"]
        extra_kwargs = {
            "external_id": {"write_only": True, "help_text": "Sent with AssumeRole; never shown back."},
        }
        validators = []  # name unique per workspace: the model's full_clean, with the workspace it lands in

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        child = self.fields["check_types"].child
        child.choices = aws_check_types()
        child.error_messages["invalid_choice"] = "Not a check type that looks at AWS: {input}."


class EnvironmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where checks may look: an account, its regions, the check types allowed there and the role
    assumed there (no credentials). Members of its workspace read it; its admins manage it."""

    serializer_class = EnvironmentSerializer
    extra_error_statuses = (403,)  # its workspace's admins manage it
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AwsEnvironment.objects.none()
        return selectors.environments_of(self.request.user).select_related("workspace")

    def get_object(self):
        environment = super().get_object()  # a 404 outside the caller's workspaces
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            selectors.require_manager(environment)  # before the body is even read
        return environment

    def create(self, request, *args, **kwargs):
        if not administered_workspaces(request.user).exists():
            raise PermissionDenied(selectors.ADMINS_ONLY)  # before the body is even read
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        chosen = data.pop("workspace", None)
        workspace = selectors.workspace_for_new_environment(self.request.user, chosen.slug if chosen else None)
        serializer.instance = services.environment_create(workspace=workspace, actor=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = services.environment_update(
            environment=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.environment_delete(environment=instance, actor=self.request.user)


@extend_schema_field(OpenApiTypes.INT)
class OperationEnvironmentField(serializers.PrimaryKeyRelatedField):
    """An environment of the operation's workspace, by id; any other is "No such AWS environment."."""

    default_error_messages = {"does_not_exist": selectors.NO_SUCH_ENVIRONMENT}

    def get_queryset(self):
        operation = self.context.get("operation")
        return AwsEnvironment.objects.none() if operation is None else selectors.environments_for(operation)


class OperationItemField(serializers.PrimaryKeyRelatedField):
    """An item of the operation in the URL, by id."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(allow_null=True, required=False, **kwargs)

    def get_queryset(self):
        return self.model.objects.filter(operation=self.context["operation"])


class SecondsField(serializers.IntegerField):
    """A duration as whole seconds."""

    def to_representation(self, value) -> int:
        return int(value.total_seconds())

    def run_validation(self, data=serializers.empty):
        seconds = super().run_validation(data)  # an int, checked against min_value and max_value
        return None if seconds is None else timezone.timedelta(seconds=seconds)


class CheckSerializer(StrictModelSerializer):
    type = serializers.ChoiceField(choices=[])
    environment = OperationEnvironmentField(allow_null=True, required=False)
    interval_seconds = SecondsField(
        source="interval", min_value=30, max_value=7 * 24 * 3600, required=False, help_text="How often it looks."
    )
    finding = OperationItemField(Finding, help_text="A finding that shows this check's verdict beside its words.")
    task = OperationItemField(Task, help_text="A task or completion criterion ticked while it passes.")
    blocker = OperationItemField(Blocker, help_text="A blocker resolved when it passes.")
    shown_status = serializers.CharField(
        read_only=True, help_text="status, or 'stale' when not answered for 3 intervals"
    )

    class Meta:
        model = Check
        fields = [
            "id",
            "name",
            "type",
            "environment",
            "region",
            "params",
            "expected",
            "interval_seconds",
            "enabled",
            "finding",
            "task",
            "blocker",
            "status",
            "shown_status",
            "observed",
            "message",
            "last_run_at",
            "last_good_at",
            "next_due_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "observed", "message", "last_run_at", "last_good_at", "next_due_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(code, kind.label) for code, kind in sorted(registry.items())]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckRun
        fields = [
            "run_id",
            "status",
            "observed",
            "evidence",
            "calls",
            "error_code",
            "message",
            "started_at",
            "duration_ms",
        ]


class CheckViewSet(ItemViewSet):
    """Live checks of the operation. Editors add and change them; `run` makes one due now."""

    model = Check
    serializer_class = CheckSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Check.objects.none()
        return selectors.checks_of(self.operation)

    def save_new(self, data):
        return services.check_create(operation=self.operation, actor=self.request.user, **data)

    def save_changes(self, item, data):
        return services.check_update(check=item, actor=self.request.user, **data)

    def remove(self, item) -> None:
        services.check_delete(check=item, actor=self.request.user)

    @extend_schema(request=None, responses={200: CheckSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, operation_slug: str, pk: str):
        """Make the check due now; the next dispatch (every few seconds) looks at it."""
        check = services.check_run_now(check=self.get_object(), actor=request.user)
        return Response(CheckSerializer(check, context=self.get_serializer_context()).data)

    @extend_schema(responses={200: RunSerializer(many=True)})
    @action(detail=True, pagination_class=None)
    def runs(self, request, operation_slug: str, pk: str):
        """The latest runs (`selectors.RECENT_RUNS`), newest first: what was seen, the evidence, the AWS calls."""
        return Response(RunSerializer(selectors.recent_runs(self.get_object()), many=True).data)


class DiagnoseRequestSerializer(StrictSerializer):
    environment = OperationEnvironmentField()
    region = serializers.CharField(max_length=30)
    cluster = serializers.CharField(max_length=255)
    service = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535)
    unknown_ok = serializers.ListField(
        child=serializers.ChoiceField(choices=[*STEP_SLUGS[1:], "all"]),
        required=False,
        default=list,
        max_length=len(STEP_SLUGS),
        help_text='Steps whose "cannot tell" must not make the verdict unknown, e.g. "vpc-block-public-access".',
    )

    def validate(self, data):
        environment = data["environment"]
        if data["region"] not in environment.regions:
            raise serializers.ValidationError({"region": f"{environment} does not list {data['region']}."})
        if not environment.allows_type(selectors.DIAGNOSIS_TYPE):
            raise serializers.ValidationError(
                {"environment": f"{environment} does not allow {selectors.DIAGNOSIS_TYPE} checks, whose walk this is."}
            )
        return data


class RootCauseSerializer(serializers.Serializer):
    code = serializers.CharField()
    summary = serializers.CharField()
    evidence = serializers.DictField(help_text="AWS field path -> the value that shows the cause.")
    remediation = serializers.CharField()
    impact = serializers.ChoiceField(
        choices=["all", "some", "none"], help_text="The paths it blocks now: every one, some, or none yet."
    )


class StepSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "problem", "unknown", "skipped"])
    detail = serializers.CharField()
    calls = serializers.ListField(child=serializers.CharField())


class DiagnosisSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=VERDICTS)
    root_causes = RootCauseSerializer(many=True)
    steps = StepSerializer(many=True)


class DiagnoseViewSet(OperationScoped, viewsets.GenericViewSet):
    """Why an ECS service is (not) reachable from the internet, walked now (editors: it calls AWS)."""

    serializer_class = DiagnoseRequestSerializer
    read_role = write_role = Role.EDITOR

    @extend_schema(request=DiagnoseRequestSerializer, responses={200: DiagnosisSerializer})
    def create(self, request, operation_slug: str):
        given = DiagnoseRequestSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        data = given.validated_data
        diagnosis = diagnose_ecs(**data)  # cluster, service, region, port, environment
        return Response(DiagnosisSerializer(diagnosis.to_dict()).data)


router = SimpleRouter()
router.register("aws-environments", EnvironmentViewSet, basename="aws-environment")
router.register(r"operations/(?P<operation_slug>[-a-zA-Z0-9_]+)/checks", CheckViewSet, basename="operation-checks")
router.register(
    r"operations/(?P<operation_slug>[-a-zA-Z0-9_]+)/diagnose-ecs", DiagnoseViewSet, basename="operation-diagnose-ecs"
)

urlpatterns = [path("", include(router.urls))]
