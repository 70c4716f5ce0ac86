"""The models of the caller's workspaces in the REST API (issue #13), on the tracker API's
conventions (strict input, one error shape): `/api/models/` lists them, `/api/models/{name}/`
reads one and links it to an operation (PATCH), `/api/models/{name}/aliases/` moves an alias.
Members read; the workspace's admins change. Another workspace's model does not exist here (the
same 404 as a name nobody registered)."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api import StrictSerializer

from . import selectors, services
from .models import RegisteredModel


class VersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    sha256 = serializers.CharField()
    sklearn_version = serializers.CharField()
    created_at = serializers.DateTimeField()


class ModelSerializer(serializers.ModelSerializer):
    workspace = serializers.CharField(source="workspace.slug", read_only=True, help_text="Its workspace's slug.")
    operation = serializers.SerializerMethodField(help_text="The slug of the operation whose dashboard shows it.")
    versions = VersionSerializer(many=True, read_only=True)
    aliases = serializers.SerializerMethodField(
        help_text='Each alias and the version it points at: {"production": "2"}.'
    )

    class Meta:
        model = RegisteredModel
        fields = ["name", "workspace", "operation", "versions", "aliases"]
        read_only_fields = fields

    def get_operation(self, model: RegisteredModel) -> str | None:
        return model.operation.slug if model.operation is not None else None

    def get_aliases(self, model: RegisteredModel) -> dict[str, str]:
        return {alias.name: alias.version.version for alias in model.aliases.all()}


class ModelLinkSerializer(StrictSerializer):
    operation = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        max_length=255,
        help_text="An operation of the model's workspace (slug); null: none.",
    )


class AliasMoveSerializer(StrictSerializer):
    alias = serializers.SlugField(max_length=50, help_text="e.g. production; created on first use.")
    version = serializers.CharField(max_length=50, help_text="One of the model's versions.")


class ModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The models of your workspaces: versions, aliases, the operation whose dashboard shows them.
    Their workspace's admins link them to an operation and move their aliases. Registering a
    version is not done here: a person must review and approve the artifact's types, with
    `manage.py register_model`."""

    serializer_class = ModelSerializer
    extra_error_statuses = (403,)  # the workspace's admins change
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_field = "name"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RegisteredModel.objects.none()
        return selectors.models_of(self.request.user)

    def get_object(self):
        model = super().get_object()  # a 404 outside the caller's workspaces
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            services.require_manager(model)  # before the body is even read
        return model

    def _answer(self, model: RegisteredModel) -> Response:
        fresh = self.get_queryset().get(pk=model.pk)
        return Response(ModelSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=ModelLinkSerializer, responses={200: ModelSerializer})
    def partial_update(self, request, name: str):
        """Link the model to an operation of its workspace (its dashboard then shows it), or unlink it."""
        model = self.get_object()
        given = ModelLinkSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.model_set_operation(model=model, operation_slug=given.validated_data["operation"], user=request.user)
        return self._answer(model)

    @extend_schema(request=AliasMoveSerializer, responses={200: ModelSerializer})
    @action(detail=True, methods=["post"])
    def aliases(self, request, name: str):
        """Point an alias at one of the model's versions (creating the alias); the workers serve it
        within MLSERVICE_REFRESH_SECONDS."""
        model = self.get_object()
        given = AliasMoveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.model_alias_set(model=model, user=request.user, **given.validated_data)
        return self._answer(model)


router = SimpleRouter()
router.register("models", ModelViewSet, basename="model")

urlpatterns = [path("", include(router.urls))]
