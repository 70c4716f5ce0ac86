"""Operations: the ones a user can see, creating and changing one, its one-call summary, and a
tracker document in (import) and out (export). Views are thin: a selector or a service in, a
serializer out; permissions are the operation roles.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from .. import services
from ..charts import build_charts
from ..dashboard import build_dashboard
from ..exporters import export_json, export_markdown
from ..importers import DocumentTooLarge, ImportFailed, check_size, import_as, read_document
from ..models import Blocker, Operation, Phase
from ..permissions import Role, require_role
from ..selectors import operation_for_dashboard, operation_list, progress_history, workspace_for_new_operation
from . import filters
from .base import ErrorSerializer, ImportErrorSerializer, PhaseField, StrictModelSerializer, StrictSerializer


class OperationSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    open_blockers = serializers.IntegerField(read_only=True)
    current_phase = serializers.SerializerMethodField()
    role = serializers.CharField(source="my_role", read_only=True)
    workspace = serializers.SlugField(source="workspace.slug", read_only=True)

    class Meta:
        model = Operation
        fields = [
            "workspace",
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


class OperationCreateSerializer(StrictModelSerializer):
    workspace = serializers.SlugField(
        required=False, help_text="The workspace to create it in (its slug); needed when you belong to several."
    )

    class Meta:
        model = Operation
        fields = ["workspace", "name", "status", "status_icon", "start_date", "stated_progress", "motto", "footer"]


class OperationUpdateSerializer(StrictModelSerializer):
    current_phase = PhaseField(allow_null=True, required=False, help_text="The number of the phase now under way.")

    class Meta:
        model = Operation
        fields = [*OperationCreateSerializer.Meta.fields[1:], "current_phase"]


class DocumentUploadSerializer(StrictSerializer):
    document = serializers.FileField(help_text="A tracker document in markdown (UTF-8).")


class MarkdownParser(parsers.BaseParser):
    """A tracker document as the request body, as it is: `Content-Type: text/markdown`."""

    media_type = "text/markdown"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class ImportQuerySerializer(serializers.Serializer):
    replace = serializers.BooleanField(
        default=False, help_text="Rewrite the operation of the same name (its admins only) instead of refusing."
    )
    workspace = serializers.SlugField(
        required=False, help_text="The workspace to import into (its slug); needed when you belong to several."
    )


class OperationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Operations the caller is a member of (all of them for superusers).

    Anyone signed in may create one and becomes its admin; editors change it; admins delete it.
    """

    serializer_class = OperationSerializer
    filterset_class = filters.OperationFilter
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return operation_list(self.request.user)

    def get_object(self) -> Operation:
        operation = super().get_object()
        needed = {"partial_update": Role.EDITOR, "destroy": Role.ADMIN}.get(self.action, Role.VIEWER)
        require_role(self.request.user, operation, needed)
        return operation

    def _shown(self, operation: Operation, code: int = status.HTTP_200_OK) -> Response:
        """The operation as the list shows it (progress, open blockers, the caller's role)."""
        fresh = operation_list(self.request.user).get(pk=operation.pk)
        return Response(OperationSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=OperationCreateSerializer, responses={201: OperationSerializer})
    def create(self, request, *args, **kwargs):
        given = OperationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        workspace = workspace_for_new_operation(request.user, fields.pop("workspace", None))
        operation = services.operation_create(workspace=workspace, actor=request.user, **fields)
        return self._shown(operation, status.HTTP_201_CREATED)

    @extend_schema(request=OperationUpdateSerializer, responses={200: OperationSerializer})
    def partial_update(self, request, *args, **kwargs):
        operation = self.get_object()
        given = OperationUpdateSerializer(data=request.data, partial=True, context={"operation": operation})
        given.is_valid(raise_exception=True)
        services.operation_update(operation=operation, actor=request.user, **given.validated_data)
        return self._shown(operation)

    def perform_destroy(self, instance: Operation) -> None:
        services.operation_delete(operation=instance, actor=self.request.user)

    @extend_schema(responses={200: SummarySerializer})
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

    @extend_schema(
        operation_id="operations_import",
        parameters=[ImportQuerySerializer],
        request={"text/markdown": OpenApiTypes.STR, "multipart/form-data": DocumentUploadSerializer},
        responses={
            201: OperationSerializer,
            200: OperationSerializer,
            400: ImportErrorSerializer,
            403: ErrorSerializer,  # replacing an operation one does not administer
            413: ImportErrorSerializer,  # over TRACKER_MAX_DOCUMENT_BYTES
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MarkdownParser, parsers.MultiPartParser],
    )
    def import_document(self, request):
        """Create an operation from a tracker document (201), or with `?replace=true` rewrite the one
        of the same name (200). A document that does not import is a 400 listing every problem
        with its line number, and changes nothing; one over TRACKER_MAX_DOCUMENT_BYTES is a 413 naming
        the limit, before it is read (core/http_errors.py refuses a larger body first)."""
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        replace = query.validated_data["replace"]
        workspace = workspace_for_new_operation(request.user, query.validated_data.get("workspace"))
        if isinstance(request.data, bytes):
            data = request.data
        else:
            upload = DocumentUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            document = upload.validated_data["document"]
            try:
                check_size(document.size)
            except DocumentTooLarge as refused:
                raise ImportTooLarge(refused) from None
            data = document.read()
        try:
            operation = import_as(
                document=read_document(data), actor=request.user, workspace=workspace, replace=replace
            )
        except DocumentTooLarge as refused:
            raise ImportTooLarge(refused) from None
        except ImportFailed as failure:
            raise ImportRefused(failure) from None
        latest = operation.activity.values_list("action", flat=True).first()
        return self._shown(operation, status.HTTP_201_CREATED if latest == "imported" else status.HTTP_200_OK)

    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR})
    @action(detail=True)
    def markdown(self, request, slug: str):
        """The operation as a tracker document, ready to commit next to the code."""
        operation = self.get_object()
        return HttpResponse(export_markdown(operation.slug), content_type="text/markdown; charset=utf-8")

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True)
    def document(self, request, slug: str):
        """The operation as the canonical JSON of a tracker document (what `markdown` renders)."""
        operation = self.get_object()
        return HttpResponse(export_json(operation.slug), content_type="application/json")


class ImportRefused(ValidationError):
    """A 400 whose body lists the document's problems: {"error", "problems": [{"line", "message"}]}."""

    def __init__(self, failure: ImportFailed):
        # The first parser.MAX_PROBLEMS problems, then one counting the rest; the error counts them all.
        self.problems = [{"line": p.line, "message": p.message} for p in failure.problems]
        count = failure.total
        super().__init__(f"The document does not import: {count:,} problem{'s' if count != 1 else ''}.")


class ImportTooLarge(APIException):
    """A 413 for a document over TRACKER_MAX_DOCUMENT_BYTES, in the shape of ImportRefused."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE

    def __init__(self, refused: DocumentTooLarge):
        self.problems = [{"line": p.line, "message": p.message} for p in refused.problems]
        super().__init__(refused.message)
