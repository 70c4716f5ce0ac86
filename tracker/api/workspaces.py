"""`/api/workspaces/`: the caller's workspaces, and for their admins, members and the egress allow-list.

A workspace the caller does not belong to is a 404, like one that does not exist. Instance
superusers create workspaces (POST); a workspace's admins change it (PATCH) and manage its
members (`/api/workspaces/{slug}/members/`).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.egress import validate_allow_entry

from .. import services
from ..models import Workspace, WorkspaceMembership
from ..selectors import workspace_members, workspaces_of
from .base import StrictSerializer

Role = WorkspaceMembership.Role


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="my_role", read_only=True)

    class Meta:
        model = Workspace
        fields = ["slug", "name", "role", "egress_allow", "created_at"]
        read_only_fields = fields


class WorkspaceCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False)


class WorkspaceUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    egress_allow = serializers.ListField(
        child=serializers.CharField(max_length=300),
        max_length=100,
        required=False,
        help_text="Internal CIDRs, addresses or host names (each optionally with :port) its checks may reach.",
    )

    def validate_egress_allow(self, entries: list[str]) -> list[str]:
        problems, cleaned = {}, []
        for index, entry in enumerate(entries):
            try:
                cleaned.append(validate_allow_entry(entry))
            except DjangoValidationError as error:
                problems[str(index)] = error.messages
        if problems:
            raise serializers.ValidationError(problems)
        return cleaned


class WorkspaceMemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = WorkspaceMembership
        fields = ["username", "role", "created_at"]
        read_only_fields = fields


class WorkspaceMemberWriteSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class WorkspaceRoleSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


def _workspace(request, slug: str, *, admin: bool = False) -> Workspace:
    workspace = get_object_or_404(workspaces_of(request.user), slug=slug)
    if admin and workspace.my_role != Role.ADMIN:
        raise PermissionDenied("This needs the workspace's admin role.")
    return workspace


class WorkspaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WorkspaceSerializer
    extra_error_statuses = (403,)  # creating is for superusers, changing for the workspace's admins
    lookup_field = "slug"
    lookup_url_kwarg = "workspace_slug"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return workspaces_of(self.request.user).order_by("name")

    @extend_schema(request=WorkspaceCreateSerializer, responses={201: WorkspaceSerializer})
    def create(self, request):
        """Create a workspace (instance superusers); its creator administers it."""
        if not request.user.is_superuser:
            raise PermissionDenied("Only an instance superuser creates workspaces.")
        given = WorkspaceCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        workspace = services.workspace_create(actor=request.user, **given.validated_data)
        return Response(self._shown(workspace), status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkspaceUpdateSerializer, responses={200: WorkspaceSerializer})
    def partial_update(self, request, workspace_slug: str):
        """Rename the workspace or change its egress allow-list (its admins)."""
        workspace = _workspace(request, workspace_slug, admin=True)
        given = WorkspaceUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.workspace_update(workspace=workspace, actor=request.user, **given.validated_data)
        return Response(self._shown(workspace))

    def _shown(self, workspace: Workspace) -> dict:
        fresh = workspaces_of(self.request.user).get(pk=workspace.pk)
        return WorkspaceSerializer(fresh, context=self.get_serializer_context()).data


class WorkspaceMemberViewSet(viewsets.GenericViewSet):
    """The workspace's members: everyone in it reads the list; its admins add (POST, or change the role
    of an existing member), change a role (PATCH) and remove (DELETE: out of every operation in it too)."""

    serializer_class = WorkspaceMemberSerializer
    extra_error_statuses = (403, 404)
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    lookup_value_regex = r"[\w.@+-]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no workspace
            return WorkspaceMembership.objects.none()
        return workspace_members(workspace=_workspace(self.request, self.kwargs["workspace_slug"]))

    def list(self, request, workspace_slug: str):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, workspace_slug: str, username: str):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=WorkspaceMemberWriteSerializer, responses={201: WorkspaceMemberSerializer})
    def create(self, request, workspace_slug: str):
        workspace = _workspace(request, workspace_slug, admin=True)
        given = WorkspaceMemberWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=given.validated_data["username"], is_active=True).first()
        if user is None:
            raise serializers.ValidationError({"username": "No active user has that name."})
        membership = services.workspace_member_set(
            workspace=workspace, user=user, role=given.validated_data["role"], actor=request.user
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkspaceRoleSerializer, responses={200: WorkspaceMemberSerializer})
    def partial_update(self, request, workspace_slug: str, username: str):
        workspace = _workspace(request, workspace_slug, admin=True)
        membership = self.get_object()
        given = WorkspaceRoleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        membership = services.workspace_member_set(
            workspace=workspace, user=membership.user, role=given.validated_data["role"], actor=request.user
        )
        return Response(self.get_serializer(membership).data)

    def destroy(self, request, workspace_slug: str, username: str):
        _workspace(request, workspace_slug, admin=True)
        services.workspace_member_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
