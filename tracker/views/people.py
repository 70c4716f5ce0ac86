"""People and sharing, for the operation's admins: members and their roles, public links."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import services
from ..forms import MembershipForm
from ..models import Membership, PublicLink
from ..permissions import Role
from ..selectors import memberships_of
from .pages import get_object_in, operation_for


@login_required
def sharing(request, slug: str):
    """Members and public links; adding a member or a link posts here."""
    operation = operation_for(request, slug, Role.ADMIN)
    form = MembershipForm(request.POST or None)
    status = 200
    if request.method == "POST":
        user = get_user_model().objects.filter(username=request.POST.get("username", "")).first()
        if form.is_valid() and user is None:
            form.add_error("username", "No user has that name.")
        if form.is_valid():
            services.membership_set(operation=operation, user=user, role=form.cleaned_data["role"], actor=request.user)
            messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']}.")
            return redirect("tracker:sharing", slug=operation.slug)
        status = 400
    context = {
        "operation": operation,
        "form": form,
        "members": memberships_of(operation=operation),
        "links": operation.public_links.order_by("-created_at"),
        "new_link": request.session.pop("new_public_link", None),
    }
    return render(request, "tracker/sharing.html", context, status=status)


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
        operation=operation, actor=request.user, label=request.POST.get("label", "")[:200]
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
