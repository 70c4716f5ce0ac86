"""Admin pages: models and versions are read-only (written by `register_model`); aliases are moved
through `registry.alias_move`, like every other write."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from core.admin import ReadOnlyAdmin

from . import registry
from .models import ModelAlias, ModelVersion, RegisteredModel


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "version", "sha256", "sklearn_version", "n_features", "created_at", "created_by")
    list_filter = ("model",)
    list_select_related = ("model", "created_by")
    search_fields = ("model__name", "version", "sha256")


class ModelAliasForm(forms.ModelForm):
    class Meta:
        model = ModelAlias
        fields = ("model", "name", "version")

    def clean(self):
        # Checked here as well as in the service so that the admin shows the error on the form.
        data = super().clean()
        model = data.get("model") or getattr(self.instance, "model", None)
        version = data.get("version")
        if model is not None and version is not None and version.model_id != model.pk:
            self.add_error("version", f"Version {version} belongs to another model than {model}.")
        return data


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    """Creating or moving an alias goes through `registry.alias_move`; deleting one is not offered."""

    form = ModelAliasForm
    fields = ("model", "name", "version", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")
    list_display = ("model", "name", "version", "updated_at", "updated_by")
    list_select_related = ("model", "version", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        # Once made, an alias keeps its model and name: only the version it points at moves.
        return (*self.readonly_fields, "model", "name") if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "version" in form.base_fields:
            form.base_fields["version"].queryset = ModelVersion.objects.filter(model=obj.model_id)
        return form

    def save_model(self, request, obj, form, change):
        try:
            moved = registry.alias_move(model=obj.model, alias=obj.name, version=obj.version, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return
        obj.pk = moved.pk
        obj.refresh_from_db()
