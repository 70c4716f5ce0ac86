"""Upload a tracker document to create an operation, or replace one you administer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.text import slugify

from ..forms import ImportForm
from ..importers import ImportFailed, import_parsed, read_document
from ..models import Operation
from ..permissions import Role, has_role


@login_required
def import_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["document"]
        try:
            document = read_document(upload.read())
            existing = Operation.objects.filter(slug=slugify(document.name)).first()
            if (
                existing is not None
                and form.cleaned_data["replace"]
                and not has_role(request.user, existing, Role.ADMIN)
            ):
                # Outsiders learn nothing about the operation; members learn they lack the role.
                form.add_error("replace", "Only an admin of that operation can replace it.")
            else:
                operation = import_parsed(document=document, actor=request.user, replace=form.cleaned_data["replace"])
                messages.success(request, f"Imported {upload.name}.")
                return redirect(operation.get_absolute_url())
        except ImportFailed as failure:
            problems = failure.problems
    status = 400 if request.method == "POST" else 200
    filename = request.FILES["document"].name if "document" in request.FILES else ""
    return render(
        request, "tracker/import.html", {"form": form, "problems": problems, "filename": filename}, status=status
    )
