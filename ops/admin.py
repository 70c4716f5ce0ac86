"""Admin pages of the ops app, for superusers: environments (each of one workspace; its admins
manage theirs on the site and through the API), checks saved through `ops.services` (whose clean
refuses another workspace's environment), runs and flips read-only."""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import ReadOnlyAdmin, ServiceAdmin

from . import services
from .models import AwsEnvironment, Check, CheckFlip, CheckRun


class AwsEnvironmentForm(forms.ModelForm):
    """Refuses what the pages and the API refuse: narrowing an environment so that a check it keeps
    would no longer be allowed (its workspace is read-only once made, see below)."""

    class Meta:
        model = AwsEnvironment
        fields = ["workspace", "name", "account_id", "regions", "check_types", "role_arn", "external_id"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.errors:
            candidate = copy.copy(self.instance)  # as it would be saved; the instance itself is set later
            candidate.regions = data.get("regions", candidate.regions)
            candidate.check_types = data.get("check_types", candidate.check_types)
            try:
                services.refuse_stranding(candidate)
            except ValidationError as error:
                self.add_error(None, error.messages)
        return data


@admin.register(AwsEnvironment)
class AwsEnvironmentAdmin(admin.ModelAdmin):
    form = AwsEnvironmentForm

    def get_readonly_fields(self, request, obj=None):
        return ("workspace",) if obj is not None else ()  # its checks are that workspace's: it never moves

    list_display = ("name", "workspace", "account_id", "regions", "check_types", "role_arn")
    list_filter = ("workspace",)
    list_select_related = ("workspace",)
    search_fields = ("name", "account_id", "workspace__slug")

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )


@admin.register(Check)
class CheckAdmin(ServiceAdmin):
    create_service = staticmethod(services.check_create)
    delete_service = staticmethod(lambda item, actor: services.check_delete(check=item, actor=actor))
    update_service = staticmethod(
        lambda item, actor, **changes: services.check_update(check=item, actor=actor, **changes)
    )
    list_display = ("name", "operation", "type", "environment", "region", "status", "last_run_at", "enabled")
    list_filter = ("status", "type", "enabled", "operation")
    list_select_related = ("operation", "environment")
    search_fields = ("name",)
    readonly_fields = ("status", "observed", "message", "last_run_at", "last_good_at", "next_due_at", "created_at")


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "live_check", "status", "error_code", "duration_ms")
    list_filter = ("status",)
    list_select_related = ("live_check",)


@admin.register(CheckFlip)
class CheckFlipAdmin(ReadOnlyAdmin):
    list_display = ("at", "live_check", "from_status", "to_status")
    list_select_related = ("live_check",)
