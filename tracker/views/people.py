"""People and sharing, for the operation's admins: members and their roles, public links, webhooks."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from .. import services, webhooks
from ..forms import MembershipForm, MembershipRoleForm
from ..models import Membership, Operation, PublicLink, Webhook
from ..permissions import Role, has_role
from ..selectors import memberships_of, workspace_member_named, workspace_members
from .pages import get_object_in, operation_for

# How much of the delivery log the sharing page shows; the admin and the API have all of it.
RECENT_DELIVERIES = 20


class WebhookForm(forms.Form):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https", help_text="An https URL.")
    events = forms.MultipleChoiceField(
        choices=webhooks.EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    label = forms.CharField(max_length=200, required=False, help_text="What it is for, e.g. 'deploy bot'.")


@login_required
def sharing(request, slug: str):
    """Members, public links and webhooks; adding a member posts here."""
    operation = operation_for(request, slug, Role.ADMIN)
    form = MembershipForm(request.POST or None)
    status = 200
    if request.method == "POST":
        user = workspace_member_named(workspace=operation.workspace, username=request.POST.get("username", ""))
        if form.is_valid() and user is None:
            form.add_error("username", "No member of this workspace has that name.")
        if form.is_valid():
            services.membership_set(operation=operation, user=user, role=form.cleaned_data["role"], actor=request.user)
            messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']}.")
            return redirect("tracker:sharing", slug=operation.slug)
        status = 400
    return _sharing_page(request, operation, form=form, status=status)


def _sharing_page(
    request, operation, *, form=None, webhook_form=None, role_errors: dict | None = None, status: int = 200
):
    new_webhook = request.session.pop("new_webhook", None)
    members = list(memberships_of(operation=operation))
    for membership in members:  # a refused role change is said on the member's own row
        membership.role_errors = (role_errors or {}).get(membership.pk, [])
    has_role_already = {membership.user_id for membership in members}
    context = {
        "operation": operation,
        "form": form or MembershipForm(),
        "members": members,
        "roles": Membership.Role.choices,
        # Offered by the add form (a datalist): the workspace's people who have no role here yet.
        "addable": [
            member.user.get_username()
            for member in workspace_members(workspace=operation.workspace)
            if member.user_id not in has_role_already
        ],
        "links": operation.public_links.order_by("-created_at"),
        "new_link": request.session.pop("new_public_link", None),
        "webhook_form": webhook_form or WebhookForm(),
        "webhooks": webhooks.webhooks_of(operation=operation),
        "deliveries": webhooks.deliveries_of(operation=operation)[:RECENT_DELIVERIES],
        "new_webhook": new_webhook,
    }
    response = render(request, "tracker/sharing.html", context, status=status)
    if new_webhook or context["new_link"]:
        add_never_cache_headers(response)  # a secret on the page: no copy of it in any cache
    return response


@login_required
@require_POST
def membership_role(request, slug: str, pk: int):
    """A member's row on the sharing page: their new role, chosen from a list (no username to type)."""
    operation = operation_for(request, slug, Role.ADMIN)
    membership = get_object_in(Membership.objects.select_related("user"), operation, pk)
    form = MembershipRoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set(
                operation=operation, user=membership.user, role=form.cleaned_data["role"], actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            name = membership.user.get_username()
            messages.success(request, f"{name} is now {Membership.Role(form.cleaned_data['role']).label.lower()}.")
            if membership.user_id == request.user.pk and not _still_admin(request.user, operation):
                return redirect(operation.get_absolute_url())  # they lowered their own role
            return redirect("tracker:sharing", slug=operation.slug)
    errors = [message for messages_ in form.errors.values() for message in messages_]
    return _sharing_page(request, operation, role_errors={membership.pk: errors}, status=400)


def _still_admin(user, operation) -> bool:
    """Whether `user` administers `operation` now (its `my_role` was read before the change)."""
    return has_role(user, Operation.objects.only("pk", "workspace_id").get(pk=operation.pk), Role.ADMIN)


@login_required
@require_POST
def membership_remove(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.ADMIN)
    membership = get_object_in(Membership, operation, pk)
    services.membership_remove(membership=membership, actor=request.user)
    messages.success(request, f"Removed {membership.user.get_username()}.")
    return redirect("tracker:sharing", slug=operation.slug)


@login_required
@require_POST
def public_link_create(request, slug: str):
    operation = operation_for(request, slug, Role.ADMIN)
    _link, token = services.public_link_create(
        operation=operation,
        actor=request.user,
        label=request.POST.get("label", "")[:200],
        shows_infrastructure=bool(request.POST.get("shows_infrastructure")),  # an unticked box is not sent
    )
    # Shown once, on the next page, then gone: the session holds it for a single read.
    request.session["new_public_link"] = request.build_absolute_uri(f"/p/{token}/")
    return redirect("tracker:sharing", slug=operation.slug)


@login_required
@require_POST
def public_link_revoke(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.ADMIN)
    link = get_object_in(PublicLink, operation, pk)
    services.public_link_revoke(link=link, actor=request.user)
    messages.success(request, "Link revoked: it no longer opens anything.")
    return redirect("tracker:sharing", slug=operation.slug)


@login_required
@require_POST
def webhook_create(request, slug: str):
    operation = operation_for(request, slug, Role.ADMIN)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook, secret = webhooks.webhook_create(
                operation=operation,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                label=form.cleaned_data["label"],
                actor=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # Shown once, on the next page, then gone: the session holds it for a single read.
            request.session["new_webhook"] = {"name": str(webhook), "secret": secret}
            return redirect("tracker:sharing", slug=operation.slug)
    return _sharing_page(request, operation, webhook_form=form, status=400)


@login_required
@require_POST
def webhook_delete(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.ADMIN)
    webhook = get_object_in(Webhook.objects.defer("secret"), operation, pk)
    webhooks.webhook_delete(webhook=webhook, actor=request.user)
    messages.success(request, f"{webhook} deleted: it is sent nothing more.")
    return redirect("tracker:sharing", slug=operation.slug)
