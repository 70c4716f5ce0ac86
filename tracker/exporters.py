"""An operation as a tracker document: markdown in the team's own style, or canonical JSON.

The canonical JSON has no database ids and no creation times, and sorted keys, so the same
content always gives the same bytes; it is what the round-trip tests compare.
"""

from __future__ import annotations

import json
from collections import defaultdict

from .lib import document as d
from .lib.renderer import render
from .models import Operation, Task
from .selectors import operation_with_content


def operation_document(operation: Operation) -> d.TrackerDocument:
    """Build the document of an operation fetched with `selectors.operation_with_content()`."""
    by_phase: dict[int | None, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    next_steps = []
    for task in operation.tasks.all():
        if task.kind == Task.Kind.NEXT_STEP:
            next_steps.append(d.from_row(d.NextStep, task))
        else:
            by_phase[task.phase_id][task.kind].append(d.from_row(d.Task, task))
    for challenge in operation.challenges.all():
        by_phase[challenge.phase_id]["challenges"].append(d.from_row(d.Challenge, challenge))
    for finding in operation.findings.all():
        by_phase[finding.phase_id]["findings"].append(d.from_row(d.Finding, finding))
    phases = [
        d.from_row(
            d.Phase,
            phase,
            duration_seconds=int(phase.duration.total_seconds()) if phase.duration is not None else None,
            tasks=by_phase[phase.pk][Task.Kind.TASK],
            completion_criteria=by_phase[phase.pk][Task.Kind.CRITERION],
            challenges=by_phase[phase.pk]["challenges"],
            findings=by_phase[phase.pk]["findings"],
        )
        for phase in operation.phases.all()
    ]
    return d.normalize(
        d.from_row(
            d.TrackerDocument,
            operation,
            current_phase=operation.current_phase.number if operation.current_phase else None,
            sections=[d.Section(**section) for section in operation.layout],
            phases=phases,
            next_steps=next_steps,
            decisions=[d.from_row(d.Decision, x) for x in operation.decisions.all()],
            blockers=[d.from_row(d.Blocker, b, resolved=not b.is_open) for b in operation.blockers.all()],
            achievements=[d.from_row(d.Achievement, x) for x in operation.achievements.all()],
            quotes=[quote.text for quote in operation.quotes.all()],
            notes=[d.from_row(d.Note, n) for n in operation.notes.all()],
        )
    )


def _load(slug: str) -> Operation:
    return operation_with_content().get(slug=slug)


def export_markdown(slug: str) -> str:
    return render(operation_document(_load(slug)))


def export_json(slug: str) -> str:
    data = d.to_primitive(operation_document(_load(slug)))
    data["slug"] = slug
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
