"""Pages: an operation's and a workspace's channels (their admins only), the reports, a person's follow.

Outsiders get the 404 of an operation or workspace that does not exist, members without the admin
role a 403, and another operation's or workspace's channel id a 404. A channel's URL is never
rendered: the form's field is a password field that does not render its value back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import operation_for
from tracker.models import WorkspaceMembership
from tracker.permissions import Role, has_role
from tracker.selectors import workspaces_of

from . import reports, selectors, services
from .forms import ChannelForm, ChannelRulesForm, FollowForm, ScheduleForm
from .models import StatusReport


def _scope(request, *, slug: str | None = None, workspace_slug: str | None = None) -> dict:
    """{"operation": …} or {"workspace": …} if the user administers it; else 404 or 403."""
    if slug is not None:
        return {"operation": operation_for(request, slug, Role.ADMIN)}
    workspace = get_object_or_404(workspaces_of(request.user), slug=workspace_slug)
    if workspace.my_role != WorkspaceMembership.Role.ADMIN:
        raise PermissionDenied("This needs the workspace's admin role.")
    return {"workspace": workspace}


def _page_url(scope: dict) -> str:
    if "operation" in scope:
        return redirect("notify:operation-channels", slug=scope["operation"].slug).url
    return redirect("notify:workspace-channels", workspace_slug=scope["workspace"].slug).url


def _rules_form(channel, data=None) -> ChannelRulesForm:
    fields = ("label", "events", "sends_reports", "flap_runs", "flap_minutes", "slip_days")
    initial = {name: getattr(channel, name) for name in fields}
    return ChannelRulesForm(data, initial=initial, prefix=f"channel-{channel.pk}")


def _render(request, scope: dict, *, form=None, status: int = 200):
    channels = list(selectors.channels_of(**scope))
    for channel in channels:
        channel.rules_form = _rules_form(channel)
    context = {
        **scope,
        "owner": scope.get("operation") or scope.get("workspace"),
        "channels": channels,
        "workspace_channels": (
            selectors.channels_of(workspace=scope["operation"].workspace) if "operation" in scope else []
        ),
        "deliveries": selectors.deliveries_of(**scope)[: selectors.RECENT_DELIVERIES],
        "form": form or ChannelForm(),
    }
    return render(request, "notify/channels.html", context, status=status)


@login_required
def channels(request, slug: str | None = None, workspace_slug: str | None = None):
    """The channels and their delivery log; adding one posts here."""
    scope = _scope(request, slug=slug, workspace_slug=workspace_slug)
    if request.method != "POST":
        return _render(request, scope)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = services.channel_create(actor=request.user, **scope, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ImproperlyConfigured as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Channel {channel} added. Send it a test to see it work.")
            return redirect(_page_url(scope))
    return _render(request, scope, form=form, status=400)


def _channel(request, pk: int, slug, workspace_slug):
    scope = _scope(request, slug=slug, workspace_slug=workspace_slug)
    channel = selectors.channel_in(pk=pk, **scope)
    if channel is None:
        raise Http404("No such channel.")
    return scope, channel


@login_required
@require_POST
def channel_test(request, pk: int, slug: str | None = None, workspace_slug: str | None = None):
    scope, channel = _channel(request, pk, slug, workspace_slug)
    services.channel_send_test(channel=channel, actor=request.user, operation=scope.get("operation"))
    messages.success(request, f"Test sent to {channel}: its outcome is in the delivery log below.")
    return redirect(_page_url(scope))


@login_required
@require_POST
def channel_edit(request, pk: int, slug: str | None = None, workspace_slug: str | None = None):
    """Change a channel's events, label and rules (its URL is replaced by adding a new channel)."""
    scope, channel = _channel(request, pk, slug, workspace_slug)
    form = _rules_form(channel, request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(problems)}" for name, problems in form.errors.items())
        messages.error(request, f"{channel} was not changed ({errors}).")
        return redirect(_page_url(scope))
    services.channel_update(channel=channel, actor=request.user, **form.cleaned_data)
    messages.success(request, f"{channel} saved.")
    return redirect(_page_url(scope))


@login_required
@require_POST
def channel_resume(request, pk: int, slug: str | None = None, workspace_slug: str | None = None):
    scope, channel = _channel(request, pk, slug, workspace_slug)
    services.channel_resume(channel=channel, actor=request.user)
    messages.success(request, f"{channel} resumed: it is told about the next events.")
    return redirect(_page_url(scope))


@login_required
@require_POST
def channel_delete(request, pk: int, slug: str | None = None, workspace_slug: str | None = None):
    scope, channel = _channel(request, pk, slug, workspace_slug)
    services.channel_delete(channel=channel, actor=request.user)
    messages.success(request, f"{channel} deleted: it is sent nothing more.")
    return redirect(_page_url(scope))


# --- reports and follows ------------------------------------------------------------------------------


@login_required
def report_list(request, slug: str):
    """Every report sent (any member), the schedule and "send now" (admins), and your own follow."""
    operation = operation_for(request, slug, Role.VIEWER)
    is_admin = has_role(request.user, operation, Role.ADMIN)
    schedule = selectors.schedule_of(operation=operation)
    follow = selectors.follow_of(user=request.user, operation=operation)
    schedule_form = ScheduleForm(
        initial={
            "enabled": schedule.enabled,
            "weekday": schedule.weekday,
            "hour": schedule.hour,
            "minute": schedule.minute,
            "timezone": schedule.timezone,
        }
        if schedule
        else None
    )
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("This needs the admin role.")
        schedule_form = ScheduleForm(request.POST)
        if schedule_form.is_valid():
            data = schedule_form.cleaned_data
            try:
                reports.schedule_set(
                    operation=operation,
                    enabled=data["enabled"],
                    weekday=data["weekday"],
                    hour=data["hour"],
                    minute=data["minute"],
                    timezone_name=data["timezone"],
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    schedule_form.add_error(field if field in schedule_form.fields else None, errors)
            else:
                messages.success(request, "Schedule saved.")
                return redirect("notify:reports", slug=operation.slug)
    context = {
        "operation": operation,
        "reports": selectors.reports_of(operation=operation),
        "is_admin": is_admin,
        "schedule_form": schedule_form,
        "follow_form": FollowForm(initial={"mode": follow.mode if follow else ""}),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "notify/reports.html", context, status=status)


@login_required
def report_detail(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.VIEWER)
    report = get_object_or_404(StatusReport, pk=pk, operation=operation)
    return render(request, "notify/report_detail.html", {"operation": operation, "report": report})


@login_required
@require_POST
def report_send_now(request, slug: str):
    operation = operation_for(request, slug, Role.ADMIN)
    report = reports.report_send(operation=operation, trigger=StatusReport.Trigger.DEMAND, actor=request.user)
    messages.success(request, f"“{report.title}” sent to the report channels and followers.")
    return redirect("notify:reports", slug=operation.slug)


@login_required
@require_POST
def follow_set(request, slug: str):
    operation = operation_for(request, slug, Role.VIEWER)
    form = FollowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how to be told.")
    elif form.cleaned_data["mode"]:
        services.follow_set(user=request.user, operation=operation, mode=form.cleaned_data["mode"])
        messages.success(
            request, "Saved." + ("" if request.user.email else " Add an email address to your account first.")
        )
    else:
        services.follow_remove(user=request.user, operation=operation)
        messages.success(request, "You no longer follow this operation.")
    return redirect("notify:reports", slug=operation.slug)
