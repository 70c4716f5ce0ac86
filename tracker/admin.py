"""Admin pages. Saving and deleting go through `tracker.services`, like every other write, so the
admin records activity entries and keeps the same rules as the pages and the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import TokenProxy

from core import admin as core_admin
from core.admin import ReadOnlyAdmin

from . import services, webhooks
from .models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Challenge,
    Decision,
    Finding,
    Membership,
    Note,
    Operation,
    Phase,
    PublicLink,
    Quote,
    Task,
    Webhook,
    WebhookDelivery,
    Workspace,
    WorkspaceMembership,
)


class ServiceAdmin(core_admin.ServiceAdmin):
    """core's ServiceAdmin with tracker's generic update and delete services as defaults."""

    update_service: Callable[..., Any] = staticmethod(
        lambda item, actor, **changes: services.item_update(item=item, actor=actor, **changes)
    )
    delete_service: Callable[..., Any] = staticmethod(lambda item, actor: services.item_delete(item=item, actor=actor))


@admin.register(Operation)
class OperationAdmin(ServiceAdmin):
    create_service = staticmethod(services.operation_create)
    list_display = ("name", "status", "current_phase", "stated_progress", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("layout", "extra_fields", "created_at", "updated_at")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "current_phase" in form.base_fields:
            phases = form.base_fields["current_phase"].queryset
            form.base_fields["current_phase"].queryset = phases.filter(operation=obj) if obj else phases.none()
        return form


@admin.register(Phase)
class PhaseAdmin(ServiceAdmin):
    create_service = staticmethod(services.phase_create)
    update_service = staticmethod(
        lambda item, actor, **changes: services.phase_update(phase=item, actor=actor, **changes)
    )
    list_display = ("__str__", "operation", "status", "stated_progress", "duration")
    list_filter = ("operation", "status")
    readonly_fields = ("extra_fields", "created_at", "updated_at")


@admin.register(Task)
class TaskAdmin(ServiceAdmin):
    create_service = staticmethod(services.task_create)
    update_service = staticmethod(
        lambda item, actor, **changes: services.task_update(task=item, actor=actor, **changes)
    )
    list_display = ("title", "operation", "phase", "kind", "group", "done")
    list_filter = ("operation", "kind", "done")
    search_fields = ("title", "detail")
    readonly_fields = ("done_at", "created_at", "updated_at")
    list_select_related = ("operation", "phase")


@admin.register(Challenge)
class ChallengeAdmin(ServiceAdmin):
    create_service = staticmethod(services.challenge_create)
    list_display = ("title", "phase")
    exclude = ("operation",)
    list_select_related = ("phase",)


@admin.register(Finding)
class FindingAdmin(ServiceAdmin):
    create_service = staticmethod(services.finding_create)
    list_display = ("subject", "verdict", "operation", "phase")
    list_filter = ("operation", "verdict")
    list_select_related = ("operation", "phase")


@admin.register(Blocker)
class BlockerAdmin(ServiceAdmin):
    create_service = staticmethod(services.blocker_open)
    list_display = ("title", "operation", "severity", "state", "opened_at", "resolved_at")
    list_filter = ("operation", "state", "severity")
    readonly_fields = ("state", "resolved_at", "created_at", "updated_at")
    actions = ("resolve", "reopen")

    @admin.action(description="Resolve the selected blockers")
    def resolve(self, request, queryset):
        for blocker in queryset:
            services.blocker_resolve(blocker=blocker, actor=request.user)
        self.message_user(request, "Resolved.", messages.SUCCESS)

    @admin.action(description="Reopen the selected blockers")
    def reopen(self, request, queryset):
        for blocker in queryset:
            services.blocker_reopen(blocker=blocker, actor=request.user)
        self.message_user(request, "Reopened.", messages.SUCCESS)


@admin.register(Decision)
class DecisionAdmin(ServiceAdmin):
    create_service = staticmethod(services.decision_create)
    list_display = ("title", "group", "operation")
    list_filter = ("operation",)


@admin.register(Achievement)
class AchievementAdmin(ServiceAdmin):
    create_service = staticmethod(services.achievement_create)
    list_display = ("title", "category", "operation")
    list_filter = ("operation", "category")


@admin.register(Quote)
class QuoteAdmin(ServiceAdmin):
    create_service = staticmethod(services.quote_create)
    list_display = ("__str__", "operation")


@admin.register(Note)
class NoteAdmin(ServiceAdmin):
    create_service = staticmethod(services.note_create)
    list_display = ("title", "operation")


@admin.register(ActivityEntry)
class ActivityEntryAdmin(ReadOnlyAdmin):
    """The log is written by the services only: here it can be read, never edited."""

    list_display = ("at", "operation", "actor_name", "action", "subject_type", "subject_label")
    list_filter = ("operation", "action", "subject_type")
    list_select_related = ("operation",)


class WorkspaceMembershipInline(admin.TabularInline):
    model = WorkspaceMembership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    """For instance superusers: workspaces and who is in them. Workspace admins use the pages."""

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [WorkspaceMembershipInline]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()  # its URL: it never changes

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def save_model(self, request, obj, form, change):
        if change:
            services.workspace_update(
                workspace=obj, actor=request.user, name=obj.name, egress_allow=form.cleaned_data["egress_allow"]
            )
        else:
            created = services.workspace_create(
                name=obj.name, slug=obj.slug, egress_allow=obj.egress_allow, actor=request.user
            )
            obj.pk = created.pk
            obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """Members through the services too: each grant, change and removal is audited."""
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.workspace_member_remove(membership=membership, actor=request.user)
        for inline in formset.forms:
            if inline in formset.deleted_forms or not inline.has_changed() or not inline.cleaned_data:
                continue
            services.workspace_member_set(
                workspace=form.instance,
                user=inline.cleaned_data["user"],
                role=inline.cleaned_data["role"],
                actor=request.user,
            )


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    # All three through the membership services, which write the audit log (granted, role changed,
    # revoked). An existing membership changes only its role: another user or operation is a new one.
    create_service = staticmethod(services.membership_set)
    update_service = staticmethod(
        lambda item, actor, **changes: services.membership_set(
            operation=item.operation, user=item.user, role=changes.get("role", item.role), actor=actor
        )
    )
    delete_service = staticmethod(lambda item, actor: services.membership_remove(membership=item, actor=actor))

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "user", "operation") if obj is not None else self.readonly_fields

    list_display = ("user", "operation", "role")
    list_filter = ("operation", "role")
    list_select_related = ("user", "operation")


@admin.register(PublicLink)
class PublicLinkAdmin(admin.ModelAdmin):
    """Links are made on the operation's sharing page, where the URL is shown once; here they can be revoked."""

    list_display = ("operation", "label", "created_by", "created_at", "revoked_at")
    list_filter = ("operation",)
    fields = ("operation", "label", "created_by", "created_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected links")
    def revoke(self, request, queryset):
        for link in queryset:
            services.public_link_revoke(link=link, actor=request.user)
        self.message_user(request, "Revoked.", messages.SUCCESS)


# DRF's token admin lists every key in clear, and a token's key is its primary key, so any link
# or checkbox to a token would show it. A token is shown once, when made (drf_create_token or
# POST /api/auth/token/); here one can only see who has one and since when.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "created")
    list_display_links = None
    actions = None
    search_fields = ("user__username",)

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request)  # the list, never one token


class WebhookAdminForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=webhooks.EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "label", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhooks.validate_target(url)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        return url


@admin.register(Webhook)
class WebhookAdmin(ServiceAdmin):
    """Webhooks are made on the operation's sharing page, where the secret is shown once; here
    they can be changed, paused or deleted. The secret is never shown or edited here."""

    form = WebhookAdminForm
    update_service = staticmethod(
        lambda item, actor, **changes: webhooks.webhook_update(webhook=item, actor=actor, **changes)
    )
    list_display = ("__str__", "operation", "events", "active", "created_by", "created_at")
    list_filter = ("operation", "active")
    list_select_related = ("operation", "created_by")
    fields = ("operation", "url", "events", "label", "active", "created_by", "created_at", "updated_at")
    readonly_fields = ("operation", "created_by", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret")

    def delete_model(self, request, obj):
        webhooks.webhook_delete(webhook=obj, actor=request.user)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log, written by the webhook worker: what was sent where, and how it went."""

    list_display = ("created_at", "webhook", "event", "status", "attempts", "response_status", "last_attempt_at")
    list_filter = ("status", "event", "webhook__operation")
    search_fields = ("delivery_id",)
    list_select_related = ("webhook",)
    fields = (
        "delivery_id",
        "webhook",
        "event",
        "status",
        "attempts",
        "response_status",
        "response_excerpt",
        "error",
        "last_attempt_at",
        "next_attempt_at",
        "created_at",
        "payload",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("webhook__secret")
