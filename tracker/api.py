"""The REST API of the tracker (read side first): operations a user can see, and one operation's
summary. Views are thin: a selector in, a serializer out; permissions are the operation roles.
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from .charts import build_charts
from .dashboard import build_dashboard
from .models import Blocker, Operation, Phase
from .selectors import operation_for_dashboard, operation_list, progress_history


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


class OperationSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    open_blockers = serializers.IntegerField(read_only=True)
    current_phase = serializers.SerializerMethodField()
    role = serializers.CharField(source="my_role", read_only=True)

    class Meta:
        model = Operation
        fields = [
            "slug",
            "name",
            "status",
            "start_date",
            "progress",
            "stated_progress",
            "current_phase",
            "open_blockers",
            "role",
            "updated_at",
        ]

    def get_current_phase(self, operation: Operation) -> int | None:
        return operation.current_phase.number if operation.current_phase else None


class PhaseProgressSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    derived_progress = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Phase
        fields = ["number", "title", "status", "progress", "stated_progress", "derived_progress"]


class BlockerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Blocker
        fields = ["id", "title", "severity", "impact", "status_text", "opened_at"]


class ForecastSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["done", "forecast", "not_enough_history", "stalled"])
    estimate = serializers.DateTimeField(allow_null=True)
    earliest = serializers.DateTimeField(allow_null=True)
    latest = serializers.DateTimeField(allow_null=True)
    rate_per_day = serializers.FloatField(allow_null=True)
    at_risk = serializers.BooleanField()
    reason = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    operation = OperationSerializer()
    phases = PhaseProgressSerializer(many=True)
    open_blockers = BlockerSummarySerializer(many=True)
    forecast = ForecastSerializer()
    current_phase_forecast = ForecastSerializer(allow_null=True)


ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


@extend_schema(responses={200: OperationSerializer, **ERRORS})
class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Operations the caller is a member of (all of them for superusers)."""

    serializer_class = OperationSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return operation_list(self.request.user)

    @extend_schema(responses={200: SummarySerializer, **ERRORS})
    @action(detail=True)
    def summary(self, request, slug: str):
        """Overall status, per-phase progress, open blockers and the forecast, in one call."""
        self.get_object()  # 404 for outsiders, before any heavier query
        operation = operation_for_dashboard(operation_list(request.user)).get(slug=slug)
        board = build_dashboard(operation)
        charts = build_charts(
            operation,
            board.phases,
            list(progress_history(operation=operation)),
            open_primary_blockers=len(board.primary_blockers),
        )
        data = {
            "operation": operation,
            "phases": board.phases,
            "open_blockers": board.blockers_open,
            "forecast": charts.operation_forecast,
            "current_phase_forecast": charts.phase_forecast,
        }
        return Response(SummarySerializer(data).data)


router = SimpleRouter()
router.register("operations", OperationViewSet, basename="operation")

urlpatterns = [path("", include(router.urls))]
