"""Upload a tracker document to create an operation, or replace one you administer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from ..forms import ImportForm
from ..importers import ImportFailed, import_as, read_document
from ..selectors import workspaces_of


@login_required
def import_page(request):
    """The upload form; a document that does not import shows its problems (400), one over
    TRACKER_MAX_DOCUMENT_BYTES a form error naming the limit (413), and nothing is written."""
    workspaces = workspaces_of(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, workspaces=workspaces)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["document"]
        try:
            document = read_document(upload.read())
            operation = import_as(
                document=document,
                actor=request.user,
                workspace=form.cleaned_data["workspace"],
                replace=form.cleaned_data["replace"],
            )
        except ImportFailed as failure:
            problems = failure.problems
        except PermissionDenied as denied:
            form.add_error("replace", str(denied))
        else:
            messages.success(request, f"Imported {upload.name}.")
            return redirect(operation.get_absolute_url())
    status = 200
    if request.method == "POST":
        status = 413 if form.has_error("document", "too_large") else 400
    filename = request.FILES["document"].name if "document" in request.FILES else ""
    return render(
        request,
        "tracker/import.html",
        {"form": form, "problems": problems, "filename": filename, "no_workspace": not workspaces.exists()},
        status=status,
    )
