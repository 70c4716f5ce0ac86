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
            next_steps.append(
                d.NextStep(title=task.title, detail=task.detail, done=task.done, group=task.group, icon=task.icon)
            )
        else:
            item = d.Task(title=task.title, detail=task.detail, done=task.done, icon=task.icon)
            by_phase[task.phase_id][task.kind].append(item)
    for challenge in operation.challenges.all():
        by_phase[challenge.phase_id]["challenges"].append(
            d.Challenge(title=challenge.title, detail=challenge.detail, icon=challenge.icon)
        )
    for finding in operation.findings.all():
        by_phase[finding.phase_id]["findings"].append(
            d.Finding(
                subject=finding.subject,
                observed=finding.observed,
                expected=finding.expected,
                verdict=finding.verdict,
                note=finding.note,
            )
        )
    phases = [
        d.Phase(
            number=phase.number,
            title=phase.title,
            status=phase.status,
            stated_progress=phase.stated_progress,
            duration_seconds=int(phase.duration.total_seconds()) if phase.duration is not None else None,
            started_at=phase.started_at,
            finished_at=phase.finished_at,
            current_focus=phase.current_focus,
            achievement=phase.achievement,
            extra_fields=phase.extra_fields,
            tasks=by_phase[phase.pk][Task.Kind.TASK],
            completion_criteria=by_phase[phase.pk][Task.Kind.CRITERION],
            challenges=by_phase[phase.pk]["challenges"],
            findings=by_phase[phase.pk]["findings"],
        )
        for phase in operation.phases.all()
    ]
    return d.normalize(
        d.TrackerDocument(
            name=operation.name,
            status=operation.status,
            status_icon=operation.status_icon,
            start_date=operation.start_date,
            current_phase=operation.current_phase.number if operation.current_phase else None,
            stated_progress=operation.stated_progress,
            motto=operation.motto,
            footer=operation.footer,
            emoji=operation.emoji,
            title=operation.title,
            extra_fields=operation.extra_fields,
            sections=[d.Section(**section) for section in operation.layout],
            phases=phases,
            next_steps=next_steps,
            decisions=[d.Decision(title=x.title, detail=x.detail, group=x.group) for x in operation.decisions.all()],
            blockers=[
                d.Blocker(
                    title=b.title,
                    severity=b.severity,
                    description=b.description,
                    impact=b.impact,
                    status_text=b.status_text,
                    resolved=not b.is_open,
                    opened_at=b.opened_at,
                    resolved_at=b.resolved_at,
                )
                for b in operation.blockers.all()
            ],
            achievements=[
                d.Achievement(title=x.title, detail=x.detail, category=x.category, icon=x.icon)
                for x in operation.achievements.all()
            ],
            quotes=[quote.text for quote in operation.quotes.all()],
            notes=[d.Note(title=n.title, emoji=n.emoji, body=n.body) for n in operation.notes.all()],
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
