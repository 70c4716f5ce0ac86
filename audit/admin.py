"""The audit log in the admin: read-only, for superusers only."""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "event", "username", "user_pk", "source_address", "request_id")
    list_filter = ("event", "at")
    date_hierarchy = "at"
    search_fields = ("username",)
    readonly_fields = ("at", "event", "user_pk", "username", "source_address", "request_id", "details")

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
