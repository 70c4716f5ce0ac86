"""A workspace's admins manage its models from the workspace page (issue #13): move an alias to
one of the model's versions, link the model to one of the workspace's operations. The forms are in
mlservice/templates/mlservice/workspace_models.html; each posts here and comes back to the page.

A model outside the user's workspaces is a 404, as if it did not exist; a member who does not
administer its workspace is refused (403). Registering a version stays `manage.py register_model`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .models import RegisteredModel


class AliasForm(forms.Form):
    alias = forms.SlugField(max_length=50)
    version = forms.CharField(max_length=50)


class LinkForm(forms.Form):
    operation = forms.CharField(max_length=255, required=False)


def _managed_model(request, name: str) -> RegisteredModel:
    model = get_object_or_404(selectors.models_of(request.user), name=name)
    services.require_manager(model)
    return model


def _back(model: RegisteredModel):
    response = redirect("tracker:workspace", workspace_slug=model.workspace.slug)
    response["Location"] += "#models"
    return response


def _refused(request, model: RegisteredModel, problems: list[str]) -> HttpResponse:
    """Bad input: nothing written, a 400 saying why, with the way back to the workspace's page."""
    context = {"model": model, "problems": problems}
    return render(request, "mlservice/model_change_refused.html", context, status=400)


@login_required
@require_POST
def model_alias(request, name: str):
    model = _managed_model(request, name)
    form = AliasForm(request.POST)
    if not form.is_valid():
        return _refused(request, model, [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()])
    try:
        services.model_alias_set(model=model, user=request.user, **form.cleaned_data)
    except ValidationError as error:
        return _refused(request, model, error.messages)
    messages.success(
        request, f"{model.name}@{form.cleaned_data['alias']} now serves version {form.cleaned_data['version']}."
    )
    return _back(model)


@login_required
@require_POST
def model_operation(request, name: str):
    model = _managed_model(request, name)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _refused(request, model, [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()])
    try:
        services.model_set_operation(model=model, operation_slug=form.cleaned_data["operation"], user=request.user)
    except ValidationError as error:
        return _refused(request, model, error.messages)
    messages.success(request, f"Linked {model.name} to {form.cleaned_data['operation'] or 'no operation'}.")
    return _back(model)
