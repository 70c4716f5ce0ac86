"""The checks of an operation in the REST API, on the tracker API's conventions (roles, strict
input, one error shape): `/api/operations/{slug}/checks/` with each check's runs, and
`/api/aws-environments/` (read by anyone signed in, managed in the admin by superusers, since an
environment is where every team's checks may look)."""

from __future__ import annotations

from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from tracker.api.base import ItemViewSet, OperationScoped, StrictModelSerializer, StrictSerializer
from tracker.models import Blocker, Finding, Task
from tracker.permissions import Role

from . import services
from .checks.base import registry
from .diagnosis import diagnose_ecs
from .models import AwsEnvironment, Check, CheckRun


class EnvironmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = AwsEnvironment
        fields = ["id", "name", "account_id", "regions", "role_arn"]


class EnvironmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Where checks may look: an account, its regions, and the role assumed there (no credentials)."""

    serializer_class = EnvironmentSerializer
    queryset = AwsEnvironment.objects.all()


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
    environment = serializers.PrimaryKeyRelatedField(
        queryset=AwsEnvironment.objects.all(), allow_null=True, required=False
    )
    interval_seconds = SecondsField(
        source="interval", min_value=30, max_value=7 * 24 * 3600, required=False, help_text="How often it looks."
    )
    finding = OperationItemField(Finding, help_text="A finding that mirrors this check's verdict.")
    task = OperationItemField(Task, help_text="A task or completion criterion ticked while it passes.")
    blocker = OperationItemField(Blocker, help_text="A blocker resolved when it passes.")
    shown_status = serializers.CharField(
        read_only=True, help_text="status, or 'stale' when not answered for 3 intervals"
    )
    updated_by = None

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
        return Check.objects.filter(operation=self.operation).select_related("environment")

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
        """The latest 50 runs, newest first: what was seen, the evidence, the AWS calls made."""
        check = self.get_object()
        return Response(RunSerializer(CheckRun.objects.filter(live_check=check)[:RECENT_RUNS], many=True).data)


RECENT_RUNS = 50


class DiagnoseRequestSerializer(StrictSerializer):
    environment = serializers.PrimaryKeyRelatedField(queryset=AwsEnvironment.objects.all())
    region = serializers.CharField(max_length=30)
    cluster = serializers.CharField(max_length=255)
    service = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535)

    def validate(self, data):
        if data["region"] not in data["environment"].regions:
            raise serializers.ValidationError({"region": f"{data['environment']} does not list {data['region']}."})
        return data


class RootCauseSerializer(serializers.Serializer):
    code = serializers.CharField()
    summary = serializers.CharField()
    evidence = serializers.DictField(help_text="AWS field path -> the value that shows the cause.")
    remediation = serializers.CharField()


class StepSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "problem", "unknown", "skipped"])
    detail = serializers.CharField()
    calls = serializers.ListField(child=serializers.CharField())


class DiagnosisSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["reachable", "unreachable", "unknown"])
    root_causes = RootCauseSerializer(many=True)
    steps = StepSerializer(many=True)


class DiagnoseViewSet(OperationScoped, viewsets.GenericViewSet):
    """Why an ECS service is (not) reachable from the internet, walked now (editors: it calls AWS)."""

    serializer_class = DiagnoseRequestSerializer
    read_role = write_role = Role.EDITOR

    @extend_schema(request=DiagnoseRequestSerializer, responses={200: DiagnosisSerializer})
    def create(self, request, operation_slug: str):
        given = DiagnoseRequestSerializer(data=request.data)
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
