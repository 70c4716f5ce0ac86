"""What every endpoint of the API shares.

- Roles: an endpoint under `/api/operations/{operation_slug}/` finds the operation among those
  the caller may see (404 for anyone else) and checks the role the method needs (403): viewers
  read, editors write, admins manage people and hooks and delete phases (`delete_role`).
- Input is strict (`core.api`): an unknown field, or a read-only one (an id, `position`, a time the server
  stamps), is a 400 naming it, not silently dropped, so a typo in a deploy script fails loudly
  instead of "succeeding" without the change. JSON nested deeper than API_MAX_JSON_DEPTH is a 400
  before it is parsed (`parsers`).
- One error shape (`core.http_errors`), and the schema says which error statuses each endpoint
  can return (`TrackerAutoSchema`).
- Pagination and throttles are in `policies`, which DRF's settings import.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import SAFE_METHODS

from core import api as core_api
from core.api import READ_ONLY, StrictMixin, StrictSerializer  # noqa: F401 - re-exported: tracker's API imports them here

from .. import services
from ..models import Operation
from ..permissions import Role, require_role
from ..selectors import visible_operations

# --- errors -----------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every 4xx: what is wrong, and for invalid input each field's problem."""

    error = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


class ProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()


class ImportErrorSerializer(ErrorSerializer):
    """A document that does not import: every problem with the line it is on."""

    problems = ProblemSerializer(many=True, required=False)


class TrackerAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses each endpoint really returns.

    Listing them by rule here, rather than on each view, keeps the schema exact as views are added:
    the authorization-matrix and schemathesis tests check the rules against real responses.
    """

    def error_statuses(self) -> set[int]:
        view, method = self.view, self.method
        sends_body = method in ("POST", "PUT", "PATCH")  # the size limit applies even if it is unread
        reads_body = sends_body and self.get_request_serializer() is not None
        statuses: set[int] = set(getattr(view, "extra_error_statuses", ()))
        if any(p is not None and getattr(p, "__name__", "") == "IsAuthenticated" for p in view.permission_classes):
            statuses.add(401)
        if "{" in self.path:
            statuses |= {403, 404}
        if self._is_list_view():
            statuses |= {400, 404}  # a filter's value, a page past the end
        if sends_body:
            statuses.add(413)
        if reads_body:
            statuses |= {400, 415}
        if method not in SAFE_METHODS:
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in sorted(self.error_statuses()):
            responses.setdefault(str(status), self._get_response_for_code(ErrorSerializer, str(status)))
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a retry may succeed."}
            }
        return responses

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if "{operation_slug}" in self.path:
            parameters = [
                OpenApiParameter(
                    "operation_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The operation's slug."
                ),
                *parameters,
            ]
        return parameters


# --- input --------------------------------------------------------------------------------------


class StrictModelSerializer(core_api.StrictModelSerializer):
    """Strict (core.api), and says who changed the item last."""

    updated_by = serializers.CharField(source="updated_by.username", read_only=True, allow_null=True)


@extend_schema_field(OpenApiTypes.INT)
class PhaseField(serializers.SlugRelatedField):
    """A phase of the operation in the URL, by its number."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="number", **kwargs)

    def get_queryset(self):
        return self.context["operation"].phases.all()


# --- views of one operation's content -------------------------------------------------------------


class OperationScoped:
    """A view under `/api/operations/{operation_slug}/`: `self.operation` is set, the role checked.

    `delete_role`, when set, is what DELETE needs instead of `write_role`."""

    read_role = Role.VIEWER
    write_role = Role.EDITOR
    delete_role: str | None = None
    operation: Operation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, throttles
        self.operation = get_object_or_404(visible_operations(request.user), slug=kwargs["operation_slug"])
        require_role(request.user, self.operation, self.role_needed(request.method))

    def role_needed(self, method: str) -> str:
        if method in SAFE_METHODS:
            return self.read_role
        if method == "DELETE" and self.delete_role is not None:
            return self.delete_role
        return self.write_role

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "operation": getattr(self, "operation", None)}


class ItemViewSet(
    OperationScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, add, change (PATCH) and delete one kind of item, every write through a service.

    Subclasses name the model, the serializer and `save_new`; `save_changes` and `remove` default
    to the generic services.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"
    model: type

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no operation
            return self.model.objects.none()
        return self.model.objects.filter(operation=self.operation).select_related("updated_by")

    def save_new(self, data: dict[str, Any]):
        raise NotImplementedError

    def save_changes(self, item, data: dict[str, Any]):
        return services.item_update(item=item, actor=self.request.user, **data)

    def remove(self, item) -> None:
        services.item_delete(item=item, actor=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = self.save_new(serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.save_changes(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance):
        self.remove(instance)
