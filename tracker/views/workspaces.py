"""Workspaces in the pages: the list of one's own, and one workspace's members, allow-list and the
sections other apps add (AWS environments, models).

Instance superusers create workspaces; a workspace's admins manage its members and its egress
allow-list here. A workspace the user does not belong to is a 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import services
from ..models import Workspace, WorkspaceMembership
from ..selectors import visible_operations, workspace_members, workspaces_of
from ..workspace_sections import sections_for

Role = WorkspaceMembership.Role


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)


class WorkspaceMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)


class EgressForm(forms.Form):
    egress_allow = forms.CharField(
        label="Allowed internal hosts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: a CIDR (10.20.0.0/16), an address or a host name, each optionally with :port. "
        "Empty: public addresses only. Loopback, link-local and this instance's own services are never reachable.",
    )

    def clean_egress_allow(self) -> list[str]:
        from core.egress import validate_allow_entry

        entries, problems = [], []
        for line in self.cleaned_data["egress_allow"].splitlines():
            if not line.strip():
                continue
            try:
                entries.append(validate_allow_entry(line.strip()))
            except ValidationError as error:
                problems.extend(f"{line.strip()}: {message}" for message in error.messages)
        if problems:
            raise ValidationError(problems)
        return entries


@dataclass
class Page:
    workspace: Workspace
    is_admin: bool


def workspace_for(request, slug: str, *, admin: bool = False) -> Page:
    """The user's workspace of this slug (404 for any other), and whether they administer it; with
    `admin`, a member who does not is refused (403)."""
    workspace = get_object_or_404(workspaces_of(request.user), slug=slug)
    is_admin = workspace.my_role == Role.ADMIN
    if admin and not is_admin:
        raise PermissionDenied("This needs the workspace's admin role.")
    return Page(workspace, is_admin)


@login_required
def workspace_list(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_superuser:
            raise PermissionDenied("Only an instance superuser creates workspaces.")
        if form.is_valid():
            try:
                workspace = services.workspace_create(name=form.cleaned_data["name"], actor=request.user)
            except ValidationError as error:
                form.add_error("name", " ".join(error.messages))
            else:
                messages.success(request, f"Created {workspace.name}; you administer it.")
                return redirect("tracker:workspace", workspace_slug=workspace.slug)
    workspaces = workspaces_of(request.user).order_by("name")
    status = 400 if form.errors else 200
    return render(request, "tracker/workspace_list.html", {"workspaces": workspaces, "form": form}, status=status)


@login_required
def workspace_page(request, workspace_slug: str):
    page = workspace_for(request, workspace_slug)
    member_form = WorkspaceMemberForm()
    egress_form = EgressForm(initial={"egress_allow": "\n".join(page.workspace.egress_allow)})
    return _render(request, page, member_form=member_form, egress_form=egress_form)


def _render(request, page: Page, *, member_form, egress_form, status: int = 200):
    context: dict[str, Any] = {
        "workspace": page.workspace,
        "is_admin": page.is_admin,
        "members": workspace_members(workspace=page.workspace),
        "operations": page.workspace.operations.filter(pk__in=visible_operations(request.user).values("pk")).order_by(
            "name"
        ),
        "roles": Role.choices,
        "member_form": member_form,
        "egress_form": egress_form,
        "sections": sections_for(page.workspace, request.user, is_admin=page.is_admin),
    }
    return render(request, "tracker/workspace.html", context, status=status)


@login_required
@require_POST
def workspace_member_set(request, workspace_slug: str):
    """Add a user to the workspace, or change a member's role (the list's role picker posts here)."""
    page = workspace_for(request, workspace_slug, admin=True)
    form = WorkspaceMemberForm(request.POST)
    user = None
    if form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"], is_active=True).first()
        if user is None:
            form.add_error("username", "No active user has that name.")
    if not form.is_valid():
        egress_form = EgressForm(initial={"egress_allow": "\n".join(page.workspace.egress_allow)})
        return _render(request, page, member_form=form, egress_form=egress_form, status=400)
    services.workspace_member_set(
        workspace=page.workspace, user=user, role=form.cleaned_data["role"], actor=request.user
    )
    messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']} of {page.workspace.name}.")
    return redirect("tracker:workspace", workspace_slug=page.workspace.slug)


@login_required
@require_POST
def workspace_member_remove(request, workspace_slug: str, pk: int):
    page = workspace_for(request, workspace_slug, admin=True)
    membership = get_object_or_404(WorkspaceMembership.objects.select_related("user"), pk=pk, workspace=page.workspace)
    if membership.user_id == request.user.pk and not request.user.is_superuser:
        raise PermissionDenied("Ask another admin to take you out: a workspace must keep an admin who can.")
    services.workspace_member_remove(membership=membership, actor=request.user)
    messages.success(request, f"Removed {membership.user.get_username()} from {page.workspace.name}.")
    return redirect("tracker:workspace", workspace_slug=page.workspace.slug)


@login_required
@require_POST
def workspace_egress(request, workspace_slug: str):
    page = workspace_for(request, workspace_slug, admin=True)
    form = EgressForm(request.POST)
    if not form.is_valid():
        return _render(request, page, member_form=WorkspaceMemberForm(), egress_form=form, status=400)
    services.workspace_update(
        workspace=page.workspace, actor=request.user, egress_allow=form.cleaned_data["egress_allow"]
    )
    messages.success(request, "Saved the internal hosts its checks may reach.")
    return redirect("tracker:workspace", workspace_slug=page.workspace.slug)
