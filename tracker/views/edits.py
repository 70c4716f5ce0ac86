"""Editing from the dashboard. Every action is a plain form POST that works without JavaScript,
calls one service (which logs it) and returns to the dashboard; bad input shows the form again
with what is wrong (status 400), and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import services
from ..forms import AchievementForm, BlockerForm, CurrentPhaseForm, DecisionForm, FindingForm, ResolveBlockerForm
from ..models import Blocker, Operation, Task
from ..permissions import Role
from .pages import get_object_in, operation_for


def back_to(operation: Operation, anchor: str) -> HttpResponse:
    return redirect(reverse("tracker:operation", args=[operation.slug]) + f"#{anchor}")


def form_page(
    request,
    operation: Operation,
    form: forms.Form,
    *,
    heading: str,
    save: Callable[[dict[str, Any]], Any],
    anchor: str,
    done: str,
) -> HttpResponse:
    """Validate `form`, hand its data to `save` (a service call), or show the form and its errors."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, done)
            return back_to(operation, anchor)
    status = 400 if request.method == "POST" else 200
    context = {"operation": operation, "form": form, "heading": heading, "anchor": anchor}
    return render(request, "tracker/item_form.html", context, status=status)


@login_required
@require_POST
def task_toggle(request, slug: str, pk: int):
    """Tick or untick a task, next step or completion criterion."""
    operation = operation_for(request, slug, Role.EDITOR)
    task = get_object_in(Task, operation, pk)
    done = request.POST.get("done") == "1"
    (services.task_tick if done else services.task_untick)(task=task, actor=request.user)
    messages.success(request, f"{'Done' if done else 'Reopened'}: {task.title}")
    return back_to(operation, f"task-{task.pk}")


@login_required
def blocker_edit(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.EDITOR)
    blocker = get_object_in(Blocker, operation, pk)
    form = BlockerForm(request.POST or None, initial=model_to_dict(blocker, fields=BlockerForm.Meta.fields))
    return form_page(
        request,
        operation,
        form,
        heading=f"Edit blocker: {blocker.title}",
        save=lambda data: services.blocker_edit(blocker=blocker, actor=request.user, **data),
        anchor=f"blocker-{blocker.pk}",
        done="Blocker updated.",
    )


@login_required
@require_POST
def blocker_resolve(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.EDITOR)
    blocker = get_object_in(Blocker, operation, pk)
    form = ResolveBlockerForm(request.POST)
    status_text = (form.cleaned_data["status_text"] or None) if form.is_valid() else None  # empty: keep it
    services.blocker_resolve(blocker=blocker, actor=request.user, status_text=status_text)
    messages.success(request, f"Resolved: {blocker.title}")
    return back_to(operation, "blockers")


@login_required
@require_POST
def blocker_reopen(request, slug: str, pk: int):
    operation = operation_for(request, slug, Role.EDITOR)
    blocker = get_object_in(Blocker, operation, pk)
    services.blocker_reopen(blocker=blocker, actor=request.user)
    messages.success(request, f"Reopened: {blocker.title}")
    return back_to(operation, "blockers")


@login_required
def current_phase(request, slug: str):
    operation = operation_for(request, slug, Role.EDITOR)
    return form_page(
        request,
        operation,
        CurrentPhaseForm(request.POST or None, operation=operation),
        heading="Move the current phase",
        save=lambda data: services.operation_set_current_phase(
            operation=operation, phase=data["phase"], actor=request.user
        ),
        anchor="status",
        done="Current phase moved.",
    )


def adding(form_class, create, *, heading: str, anchor: str, done: str, per_operation: bool = False):
    """A view that adds one kind of item with `create(operation=..., actor=..., **form data)`."""

    @login_required
    def view(request, slug: str):
        operation = operation_for(request, slug, Role.EDITOR)
        extra = {"operation": operation} if per_operation else {}
        return form_page(
            request,
            operation,
            form_class(request.POST or None, **extra),
            heading=heading,
            save=lambda data: create(operation=operation, actor=request.user, **data),
            anchor=anchor,
            done=done,
        )

    return view


blocker_add = adding(
    BlockerForm, services.blocker_open, heading="Raise a blocker", anchor="blockers", done="Blocker raised."
)
finding_add = adding(
    FindingForm,
    services.finding_create,
    heading="Add a finding",
    anchor="findings",
    done="Finding added.",
    per_operation=True,
)
decision_add = adding(
    DecisionForm, services.decision_create, heading="Record a decision", anchor="decisions", done="Decision recorded."
)
achievement_add = adding(
    AchievementForm,
    services.achievement_create,
    heading="Add an achievement",
    anchor="achievements",
    done="Achievement added.",
)
