"""Admin classes every app may build on (not an app's admin module: core registers no model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written elsewhere (by the services, by token creation, by a worker): shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceAdmin(admin.ModelAdmin):
    """Routes the admin's create, update and delete through an app's service functions, so the admin
    keeps the rules (and the activity log) of the pages and the API. A subclass names them:
    `create_service(actor=, **fields)`, `update_service(item, actor, **changes)` (only the changed
    fields), `delete_service(item, actor)`."""

    create_service: Callable[..., Any]
    update_service: Callable[..., Any]
    delete_service: Callable[..., Any]
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.cleaned_data if name not in self.readonly_fields}
        if change:
            current = type(obj).objects.get(pk=obj.pk)
            self.update_service(
                current, request.user, **{name: data[name] for name in form.changed_data if name in data}
            )
        else:
            created = self.create_service(actor=request.user, **data)
            obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        self.delete_service(obj, request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_service(obj, request.user)
