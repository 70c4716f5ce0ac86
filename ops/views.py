"""The pages of an operation's live checks: the list (with checks suggested by its findings), one
check's runs and flips, and adding, editing, deleting and running a check now.

As on the tracker's pages: plain forms that work without JavaScript, one service call per change,
bad input shown again with what is wrong (status 400) and nothing written; outsiders get a 404,
members whose role is too low a 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tracker.access import get_object_in, operation_for
from tracker.models import Finding, Operation
from tracker.permissions import Role, has_role
from tracker.selectors import administered_workspaces

from . import selectors, services
from .checks.base import registry
from .checks.reachability import steps_named
from .diagnosis import diagnose_ecs
from .forms import CheckForm, DiagnoseForm, EnvironmentForm
from .models import AwsEnvironment, Check, shown
from .selectors import environments_for, environments_of, may_manage, require_manager
from .suggest import Suggestion, suggestions_for


def _checks_url(operation: Operation) -> str:
    return reverse("ops:checks", args=[operation.slug])


def _check_url(operation: Operation, check: Check) -> str:
    return reverse("ops:check-detail", args=[operation.slug, check.pk])


# --- suggestions ----------------------------------------------------------------------------------


def _key(finding_id: int | None, kind: str, params: Any) -> tuple:
    params = params if isinstance(params, dict) else {}
    return (finding_id, kind, params.get("attribute"), params.get("field"), params.get("port"))


def operation_suggestions(operation: Operation, checks: list[Check]) -> list[tuple[Finding, int, Suggestion]]:
    """(finding, index, suggestion) for the operation's findings, leaving out what a check already covers."""
    covered = {_key(check.finding_id, check.type, check.params) for check in checks}
    found = []
    for finding in Finding.objects.filter(operation=operation):
        for index, suggestion in enumerate(suggestions_for(finding)):
            known = suggestion.type in registry  # a type this deployment does not have is no offer
            if known and _key(finding.pk, suggestion.type, suggestion.params) not in covered:
                found.append((finding, index, suggestion))
    return found


def _small_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def _from_suggestion(request, operation: Operation) -> tuple[dict[str, Any], Suggestion | None]:
    """The add form's initial values from `?finding=<id>&suggestion=<n>`, if given."""
    finding_id, index = request.GET.get("finding", ""), request.GET.get("suggestion", "0")
    if not _small_number(finding_id) or not _small_number(index):
        return {}, None
    finding = get_object_in(Finding, operation, int(finding_id))
    suggestions = suggestions_for(finding)
    if int(index) >= len(suggestions):
        return {"finding": finding.pk}, None
    suggestion = suggestions[int(index)]
    initial = {
        "name": suggestion.name,
        "type": suggestion.type,
        "params": suggestion.params,
        "expected": suggestion.expected,
        "finding": finding.pk,
    }
    # Where it would look: the one environment of the operation's workspace that allows the type, if one.
    fitting = [env for env in environments_for(operation) if env.allows_type(suggestion.type)]
    if len(fitting) == 1 and registry[suggestion.type].needs_aws:
        initial["environment"] = fitting[0].pk
        if len(fitting[0].regions) == 1:
            initial["region"] = fitting[0].regions[0]
    return initial, suggestion


# --- reading --------------------------------------------------------------------------------------


@login_required
def check_list(request, slug: str):
    operation = operation_for(request, slug)
    checks = list(selectors.checks_of(operation))
    for check in checks:
        check.observed_shown = None if check.observed is None else shown(check.observed)
    can_edit = has_role(request.user, operation, Role.EDITOR)
    context = {
        "operation": operation,
        "checks": checks,
        "can_edit": can_edit,
        "suggestions": operation_suggestions(operation, checks) if can_edit else [],
    }
    return render(request, "ops/checks.html", context)


@login_required
def check_detail(request, slug: str, pk: int):
    operation = operation_for(request, slug)
    check = get_object_in(selectors.checks_of(operation), operation, pk)
    runs = list(selectors.recent_runs(check))
    for run in runs:
        run.evidence_items = [(name, shown(value)) for name, value in (run.evidence or {}).items()]
        run.observed_shown = None if run.observed is None else shown(run.observed)
    kind = registry.get(check.type)
    context = {
        "operation": operation,
        "check": check,
        "kind": kind,
        "runs": runs,
        "flips": selectors.recent_flips(check),
        "params": json.dumps(check.params, indent=2, ensure_ascii=False, sort_keys=True),
        "expected": "" if check.expected is None else json.dumps(check.expected, ensure_ascii=False),
        "observed": None if check.observed is None else shown(check.observed),
        "can_edit": has_role(request.user, operation, Role.EDITOR),
    }
    return render(request, "ops/check_detail.html", context)


# --- writing --------------------------------------------------------------------------------------


def check_form_page(
    request,
    operation: Operation,
    form: CheckForm,
    *,
    heading: str,
    save: Callable[[dict[str, Any]], Check],
    done: str,
    check: Check | None = None,
    suggestion: Suggestion | None = None,
) -> HttpResponse:
    """Validate the form, hand its data to `save` (a service call), or show it again with the errors."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.check_fields())
        except ValidationError as error:
            form.show_errors(error)
        else:
            messages.success(request, done)
            return redirect(_check_url(operation, saved))
    status = 400 if request.method == "POST" else 200
    context = {
        "operation": operation,
        "form": form,
        "heading": heading,
        "check": check,
        "suggestion": suggestion,
        "back": _check_url(operation, check) if check else _checks_url(operation),
    }
    return render(request, "ops/check_form.html", context, status=status)


@login_required
def check_add(request, slug: str):
    operation = operation_for(request, slug, Role.EDITOR)
    initial, suggestion = _from_suggestion(request, operation) if request.method == "GET" else ({}, None)
    form = CheckForm(request.POST or None, operation=operation, initial=initial)
    return check_form_page(
        request,
        operation,
        form,
        heading="Add a check",
        save=lambda data: services.check_create(operation=operation, actor=request.user, **data),
        done="Check added: it is looked at within moments.",
        suggestion=suggestion,
    )


@login_required
def check_edit(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.EDITOR)
    check = get_object_in(Check, operation, pk)
    form = CheckForm(request.POST or None, operation=operation, initial=CheckForm.initial_for(check))
    return check_form_page(
        request,
        operation,
        form,
        heading=f"Edit check: {check.name}",
        save=lambda data: services.check_update(check=check, actor=request.user, **data),
        done="Check updated.",
        check=check,
    )


@login_required
@require_POST
def check_delete(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.EDITOR)
    check = get_object_in(Check, operation, pk)
    services.check_delete(check=check, actor=request.user)
    messages.success(request, f"Check deleted: {check.name}")
    return redirect(_checks_url(operation))


@login_required
@require_POST
def check_run_now(request, slug: str, pk: int):
    """Make the check due now: the next dispatch, seconds away, looks at it."""
    operation = operation_for(request, slug, Role.EDITOR)
    check = get_object_in(Check, operation, pk)
    services.check_run_now(check=check, actor=request.user)
    messages.success(request, f"{check.name} will be looked at within moments.")
    # The list's button comes back to the list, the detail page's to the check.
    return redirect(_checks_url(operation) if request.POST.get("next") == "list" else _check_url(operation, check))


@login_required
def diagnose(request, slug: str):
    """Walk an ECS service's path from the internet now and name every root cause (editors: it calls AWS)."""
    operation = operation_for(request, slug, Role.EDITOR)
    form = DiagnoseForm(request.POST or None, operation=operation, initial=_diagnose_defaults(operation))
    diagnosis = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        diagnosis = diagnose_ecs(**data)  # cluster, service, region, port, environment, unknown_ok
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    context = {"operation": operation, "form": form, "diagnosis": diagnosis}
    return render(request, "ops/diagnose.html", context, status=status)


def _diagnose_defaults(operation: Operation) -> dict[str, Any]:
    """Prefill from the operation's own reachability check, when it has one."""
    check = selectors.reachability_check(operation)
    if check is None:
        return {}
    unknown_ok = steps_named(str(check.params.get("unknown_ok") or ""))  # the form ticks each
    return {"environment": check.environment, "region": check.region, **check.params, "unknown_ok": unknown_ok}


# --- AWS environments -----------------------------------------------------------------------------
# Those of the user's workspaces: members read them, admins add, change and delete them. Another
# workspace's environment is a 404, as one that does not exist.


def _environments_url() -> str:
    return reverse("ops:environments")


@login_required
def environment_list(request):
    environments = list(environments_of(request.user).select_related("workspace").order_by("workspace__name", "name"))
    for environment in environments:
        environment.can_manage = may_manage(environment)
    context = {"environments": environments, "can_add": administered_workspaces(request.user).exists()}
    return render(request, "ops/environments.html", context)


def environment_form_page(request, form: EnvironmentForm, *, heading: str, save, done: str, environment=None):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.environment_fields())
        except ValidationError as error:
            form.show_errors(error)
        else:
            messages.success(request, done)
            return redirect(_environments_url())
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "heading": heading, "environment": environment}
    return render(request, "ops/environment_form.html", context, status=status)


@login_required
def environment_add(request):
    workspaces = administered_workspaces(request.user).order_by("name")
    if not workspaces.exists():
        raise PermissionDenied("Only a workspace's admins add AWS environments.")
    named = workspaces.filter(slug=request.GET.get("workspace", "")).first()  # from the workspace's page
    form = EnvironmentForm(request.POST or None, workspaces=workspaces, initial={"workspace": named} if named else {})
    return environment_form_page(
        request,
        form,
        heading="Add an AWS environment",
        save=lambda data: services.environment_create(actor=request.user, **data),
        done="Environment added: its workspace's checks can look at it.",
    )


def _managed_environment(request, pk: int) -> AwsEnvironment:
    environment = get_object_or_404(environments_of(request.user).select_related("workspace"), pk=pk)
    require_manager(environment)
    return environment


@login_required
def environment_edit(request, pk: int):
    environment = _managed_environment(request, pk)
    form = EnvironmentForm(
        request.POST or None, workspaces=None, environment=environment, initial=EnvironmentForm.initial_for(environment)
    )
    return environment_form_page(
        request,
        form,
        heading=f"Edit AWS environment: {environment.name}",
        save=lambda data: services.environment_update(environment=environment, actor=request.user, **data),
        done="Environment updated.",
        environment=environment,
    )


@login_required
@require_POST
def environment_delete(request, pk: int):
    environment = _managed_environment(request, pk)
    try:
        services.environment_delete(environment=environment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Environment deleted: {environment.name}")
    return redirect(_environments_url())
