"""HTML pages. Read-only until the dashboard issue: the operations, one operation, its export.

Staff see every operation; per-operation roles come with the dashboard.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from .exporters import export_json, export_markdown
from .models import Operation, Task
from .selectors import activity_feed, operation_with_content
from .selectors import operation_list as operations


@staff_member_required
def operation_list(request):
    return render(request, "tracker/operation_list.html", {"operations": operations()})


@staff_member_required
def operation_detail(request, slug: str):
    operation = get_object_or_404(operation_with_content(), slug=slug)
    tasks = list(operation.tasks.all())
    current = operation.current_phase_id
    context = {
        "operation": operation,
        "phases": operation.phases.all(),
        "current": next((p for p in operation.phases.all() if p.pk == current), None),
        "current_tasks": sorted(
            (t for t in tasks if t.phase_id == current and t.kind == Task.Kind.TASK), key=lambda t: not t.done
        ),
        "current_criteria": [t for t in tasks if t.phase_id == current and t.kind == Task.Kind.CRITERION],
        "current_challenges": [c for c in operation.challenges.all() if c.phase_id == current],
        "current_findings": [f for f in operation.findings.all() if f.phase_id == current],
        "next_steps": [t for t in tasks if t.kind == Task.Kind.NEXT_STEP],
        "open_blockers": [b for b in operation.blockers.all() if b.is_open],
        "decisions": operation.decisions.all(),
        "achievements": operation.achievements.all(),
        "quotes": operation.quotes.all(),
        "activity": activity_feed(operation=operation, limit=20),
    }
    return render(request, "tracker/operation_detail.html", context)


@staff_member_required
def operation_export(request, slug: str, fmt: str):
    get_object_or_404(Operation, slug=slug)
    if fmt == "json":
        return _download(export_json(slug), "application/json", f"{slug}.json")
    return _download(export_markdown(slug), "text/markdown", f"{slug}.md")


def _download(text: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
