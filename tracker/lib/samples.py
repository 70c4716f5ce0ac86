"""Synthetic tracker documents of any size, for the bounded-queries test and the benchmark."""

from __future__ import annotations

import datetime as dt

from . import document as d
from .renderer import render


def large_document(*, phases: int = 50, tasks: int = 5000, name: str = "Operation Big Rollout") -> str:
    """A document with `phases` phases and `tasks` tasks spread evenly, a third of them done."""
    per_phase, extra = divmod(tasks, phases)
    doc = d.TrackerDocument(
        name=name,
        status="in_progress",
        status_icon="🚀",
        start_date=dt.date(2025, 8, 11),
        current_phase=phases,
        stated_progress=40,
        motto='*"Measure twice, import once."*',
    )
    for number in range(1, phases + 1):
        count = per_phase + (1 if number <= extra else 0)
        phase = d.Phase(
            number=number,
            title=f"Rollout step {number}",
            status="complete" if number < phases else "in_progress",
            stated_progress=100 if number < phases else 30,
            duration_seconds=3600 + 60 * number if number < phases else None,
            achievement=f"Step {number} shipped" if number < phases else "",
            current_focus="Finishing the last step" if number == phases else "",
        )
        for index in range(count):
            phase.tasks.append(
                d.Task(title=f"Task {number}.{index}", detail=f"Detail of `task-{number}-{index}`", done=index % 3 == 0)
            )
        phase.findings.append(
            d.Finding(subject=f"Check {number}", observed="`ok: true`", verdict="correct", note="correct")
        )
        phase.completion_criteria.append(d.Task(title=f"Phase {number} signed off", done=number < phases))
        doc.phases.append(phase)
    doc.blockers.append(d.Blocker(title="Capacity", description="Not enough hosts", impact="Slower rollout"))
    doc.decisions.append(d.Decision(title="Batch the rollout", detail="Fifty steps", group="Strategy"))
    doc.next_steps.append(d.NextStep(title="Keep going", group="Immediate Actions"))
    return render(doc)
