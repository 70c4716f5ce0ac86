"""The tracker document as plain data: what the markdown parser produces and the renderer consumes.

No Django here. The database layer converts models to and from these dataclasses, so the
canonical JSON export, the markdown export and the importer all speak this one shape.

A document is *normalized* (`normalize`) before anyone sees it: lists are put in the order the
renderer writes them and the section layout lists every section that has content. Normalizing
first is what makes the round trip exact: parse(render(doc)) == doc for every normalized doc.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

FORMAT = "snail-trail/1"

# Limits the parser enforces with line numbers, and the models with column sizes.
MAX_NAME = 200  # operation names and group headings
MAX_TITLE = 500  # titles of phases and items, finding subjects
MAX_ICON = 32
MAX_PHASE_NUMBER = 10_000

# Status words as written in documents -> stored value. The first spelling of each value is
# the one the exporter writes.
OPERATION_STATUSES: dict[str, str] = {
    "NOT STARTED": "not_started",
    "PLANNED": "not_started",
    "PENDING": "not_started",
    "IN PROGRESS": "in_progress",
    "ACTIVE": "in_progress",
    "ONGOING": "in_progress",
    "BLOCKED": "blocked",
    "ON HOLD": "on_hold",
    "PAUSED": "on_hold",
    "COMPLETE": "complete",
    "COMPLETED": "complete",
    "DONE": "complete",
    "CANCELLED": "cancelled",
    "CANCELED": "cancelled",
}
STATUS_WORDS: dict[str, str] = {}
for _word, _value in OPERATION_STATUSES.items():
    STATUS_WORDS.setdefault(_value, _word)

PHASE_STATUSES = ("not_started", "in_progress", "blocked", "complete")
# Phase heading marks; the first mark of each status is the one the exporter writes.
PHASE_MARKS: dict[str, str] = {
    "✅": "complete",
    "🚧": "in_progress",
    "🔄": "in_progress",
    "⏳": "not_started",
    "🛑": "blocked",
    "⛔": "blocked",
}
PHASE_MARK_FOR: dict[str, str] = {}
for _mark, _value in PHASE_MARKS.items():
    PHASE_MARK_FOR.setdefault(_value, _mark)

VERDICTS = ("correct", "warning", "wrong")
VERDICT_MARKS: dict[str, str] = {"✅": "correct", "⚠️": "warning", "⚠": "warning", "❌": "wrong"}
VERDICT_MARK_FOR = {"correct": "✅", "warning": "⚠️", "wrong": "❌"}

SEVERITIES = ("primary", "secondary")

DONE_ICON = "✅"  # the default mark of a completed task; stored as "" so it has one spelling

# How a task, completion criterion or next step was written, where that is not given by its state,
# so that the export writes it back as the team did (issue #15). "" is the usual for its state: a
# task done is under Completed Tasks with ✅ (or its own icon), an open one under Pending Tasks with
# `[ ]`; a criterion has a box; a next step has one once it is ticked. A task written under Pending
# Tasks stays there when it is ticked, in the document (`[x]`) or later in the app.
WRITTEN_AS = {
    "": "the usual way for its state",
    "pending": "under Pending Tasks with a box, `[x]` once ticked",
    "box": "with a box where the usual has none: `[x]` under Completed Tasks, `[ ]` on a next step",
    "plain": "with no mark where the usual has one: no ✅ under Completed Tasks, no `[ ]` under Pending "
    "Tasks or on a criterion",
}
WRITTEN_AS_CHOICES = [(value, label) for value, label in WRITTEN_AS.items() if value]
CHALLENGE_ICON = "🔍"

# Top-level sections in the order a new document gets them.
SECTION_ORDER = (
    "overall",
    "phases",
    "phase_detail",
    "decisions",
    "blockers",
    "achievements",
    "wisdom",
    "next_steps",
    "note",
)
DEFAULT_SECTION_HEADINGS: dict[str, tuple[str, str]] = {
    "overall": ("🎯", "OVERALL STATUS"),
    "phases": ("📊", "PHASE COMPLETION STATUS"),
    "phase_detail": ("🚀", ""),  # title is built from the phase number
    "decisions": ("🎯", "STRATEGIC DECISIONS MADE"),
    "blockers": ("🚨", "CURRENT BLOCKERS"),
    "achievements": ("🎉", "MAJOR ACHIEVEMENTS"),
    "wisdom": ("🐌", "WISDOM"),
    "next_steps": ("🚀", "NEXT STEPS"),
    "note": ("", ""),
}


def phase_detail_title(number: int) -> str:
    return f"PHASE {number} DETAILED PROGRESS"


@dataclass(kw_only=True)
class Section:
    """Where a top-level section sits in the document and how its heading looks."""

    key: str
    ref: int | None = None  # the phase number (phase_detail) or note index (note)
    emoji: str = ""
    title: str = ""
    rule_after: bool = False  # a `---` line closes the section
    bold: bool = True  # its heading's title is in **bold**, as the trackers write it


@dataclass(kw_only=True)
class Task:
    title: str
    detail: str = ""
    done: bool = False
    icon: str = ""
    written_as: str = ""  # see WRITTEN_AS


@dataclass(kw_only=True)
class Challenge:
    title: str
    detail: str = ""
    icon: str = ""


@dataclass(kw_only=True)
class Finding:
    subject: str
    observed: str = ""
    expected: str = ""
    verdict: str = "correct"
    note: str = ""


@dataclass(kw_only=True)
class Phase:
    number: int
    title: str
    status: str = "not_started"
    stated_progress: int | None = None
    duration_seconds: int | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    current_focus: str = ""
    achievement: str = ""
    extra_fields: list[list[str]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    challenges: list[Challenge] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    completion_criteria: list[Task] = field(default_factory=list)

    def has_detail(self) -> bool:
        return bool(self.tasks or self.challenges or self.findings)


@dataclass(kw_only=True)
class NextStep:
    title: str
    detail: str = ""
    done: bool = False
    group: str = ""
    icon: str = ""
    written_as: str = ""  # see WRITTEN_AS


@dataclass(kw_only=True)
class Decision:
    title: str
    detail: str = ""
    group: str = ""


@dataclass(kw_only=True)
class Blocker:
    title: str
    severity: str = "primary"
    description: str = ""
    impact: str = ""
    status_text: str = ""
    resolved: bool = False
    opened_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None


@dataclass(kw_only=True)
class Achievement:
    title: str
    detail: str = ""
    category: str = ""
    icon: str = ""


@dataclass(kw_only=True)
class Note:
    """A top-level section the tracker has no model for, kept verbatim so nothing is lost."""

    title: str
    emoji: str = ""
    body: str = ""


@dataclass(kw_only=True)
class TrackerDocument:
    name: str
    status: str = "not_started"
    status_icon: str = ""
    start_date: dt.date | None = None
    current_phase: int | None = None
    stated_progress: int | None = None
    motto: str = ""
    footer: str = ""
    emoji: str = ""
    title: str = ""  # the H1 text when it is not the default "<NAME>: PROGRESS TRACKER"
    extra_fields: list[list[str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    next_steps: list[NextStep] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    achievements: list[Achievement] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def phase(self, number: int) -> Phase | None:
        return next((p for p in self.phases if p.number == number), None)

    def default_title(self) -> str:
        return f"{self.name.upper()}: PROGRESS TRACKER"


PHASE_ITEM_LISTS = ("tasks", "challenges", "findings", "completion_criteria")


def item_fields(item: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """An item's fields as keyword arguments, for the model row of the same field names."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name not in exclude}


def from_row(cls: type, row: Any, **given: Any) -> Any:
    """An item from a model row with the same field names; `given` supplies the ones that differ."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    return cls(**{name: getattr(row, name) for name in names}, **given)


def _grouped(items: list, key) -> list:
    """Stable-sort items so that each group is contiguous, groups in order of first appearance."""
    first_seen: dict[str, int] = {"": -1}  # items outside any group are written first, headless
    for item in items:
        first_seen.setdefault(key(item), len(first_seen))
    return sorted(items, key=lambda item: first_seen[key(item)])


def _blocker_rank(blocker: Blocker) -> tuple[bool, int]:
    return (blocker.resolved, SEVERITIES.index(blocker.severity))


def _to_second(value: dt.datetime | None) -> dt.datetime | None:
    # The markdown keeps times to the second; so does everything else, or the round trip drifts.
    return value.astimezone(dt.UTC).replace(microsecond=0) if value is not None else None


def _without_icon(items: list, default: str) -> list:
    return [replace(item, icon="") if item.icon == default else item for item in items]


def listed_pending(task: Task) -> bool:
    """Whether a phase's task is written under Pending Tasks rather than Completed Tasks."""
    return not task.done or task.written_as == "pending"


def _task_written_as(task: Task) -> str:
    """What the markdown keeps of a task's `written_as` for its state (what a parse reads back)."""
    if task.written_as == "plain":
        # Under Completed Tasks an icon is a mark of its own: only a bare item is 'plain' there.
        return "plain" if not (task.done and task.icon) else ""
    if not task.done:
        return "pending"  # an open task is under Pending Tasks with `[ ]`, wherever it was
    return task.written_as if task.written_as in ("pending", "box") else ""


def _with_written_as(items: list, written_as) -> list:
    out = []
    for item in items:
        value = written_as(item)
        out.append(item if value == item.written_as else replace(item, written_as=value))
    return out


def _criterion_written_as(task: Task) -> str:
    return "plain" if task.written_as == "plain" and not task.done else ""


def _next_step_written_as(step: NextStep) -> str:
    return "box" if step.written_as == "box" and not step.done else ""


def normalize(doc: TrackerDocument) -> TrackerDocument:
    """Return the document with lists in rendering order and a layout naming every section.

    The input is left as it is; unchanged items are shared with the result, not copied (a
    5,000-task document is normalized twice on import, and a deep copy was a third of it).
    """
    phases = [
        replace(
            phase,
            started_at=_to_second(phase.started_at),
            finished_at=_to_second(phase.finished_at),
            # Completed Tasks are written before Pending Tasks; keep that order everywhere.
            tasks=sorted(_with_written_as(_without_icon(phase.tasks, DONE_ICON), _task_written_as), key=listed_pending),
            completion_criteria=_with_written_as(
                _without_icon(phase.completion_criteria, DONE_ICON), _criterion_written_as
            ),
            challenges=_without_icon(phase.challenges, CHALLENGE_ICON),
        )
        for phase in sorted(doc.phases, key=lambda p: p.number)
    ]
    blockers = [
        replace(b, opened_at=_to_second(b.opened_at), resolved_at=_to_second(b.resolved_at)) for b in doc.blockers
    ]
    doc = replace(
        doc,
        phases=phases,
        next_steps=_grouped(_with_written_as(doc.next_steps, _next_step_written_as), lambda s: s.group),
        decisions=_grouped(doc.decisions, lambda d: d.group),
        achievements=_grouped(doc.achievements, lambda a: a.category),
        blockers=sorted(blockers, key=_blocker_rank),
        title="" if doc.title == doc.default_title() else doc.title,
    )
    doc.sections = _normalized_sections(doc)
    _number_notes_in_section_order(doc)
    if doc.footer and doc.sections:
        doc.sections[-1].rule_after = True
    return doc


def _number_notes_in_section_order(doc: TrackerDocument) -> None:
    """Notes are listed in the order their sections are written, which is how a parse finds them."""
    order = [section.ref for section in doc.sections if section.key == "note"]
    doc.notes = [doc.notes[ref] for ref in order]
    for index, section in enumerate(s for s in doc.sections if s.key == "note"):
        section.ref = index


def _needed_sections(doc: TrackerDocument) -> list[tuple[str, int | None]]:
    needed: list[tuple[str, int | None]] = [("overall", None)]
    if doc.phases:
        needed.append(("phases", None))
    needed += [("phase_detail", p.number) for p in doc.phases if p.has_detail()]
    if doc.decisions:
        needed.append(("decisions", None))
    if doc.blockers:
        needed.append(("blockers", None))
    if doc.achievements:
        needed.append(("achievements", None))
    if doc.quotes:
        needed.append(("wisdom", None))
    if doc.next_steps or any(p.completion_criteria for p in doc.phases):
        needed.append(("next_steps", None))
    needed += [("note", index) for index in range(len(doc.notes))]
    return needed


def _normalized_sections(doc: TrackerDocument) -> list[Section]:
    phase_numbers = {p.number for p in doc.phases}
    sections: list[Section] = []
    seen: set[tuple[str, int | None]] = set()
    for section in doc.sections:
        ident = (section.key, section.ref)
        if ident in seen:
            continue
        if section.key == "phase_detail" and section.ref not in phase_numbers:
            continue
        if section.key == "note" and not (section.ref is not None and section.ref < len(doc.notes)):
            continue
        seen.add(ident)
        if section.key == "note":
            # A note's heading is the note's own (Note.emoji, Note.title), not the layout's.
            section = dataclasses.replace(section, emoji="", title="")
        sections.append(dataclasses.replace(section))
    for ident in _needed_sections(doc):
        if ident in seen:
            continue
        key, ref = ident
        emoji, title = DEFAULT_SECTION_HEADINGS[key]
        if key == "phase_detail":
            title = phase_detail_title(ref)
        new = Section(key=key, ref=ref, emoji=emoji, title=title, rule_after=True)
        sections.insert(_insertion_index(sections, new), new)
        seen.add(ident)
    return sections


def _insertion_index(sections: list[Section], new: Section) -> int:
    """After the last section that comes no later than `new` in the default order."""
    rank = SECTION_ORDER.index(new.key)
    index = 0
    for position, section in enumerate(sections):
        if (SECTION_ORDER.index(section.key), section.ref or 0) <= (rank, new.ref or 0):
            index = position + 1
    return index


def to_primitive(doc: TrackerDocument) -> dict[str, Any]:
    """The canonical JSON-ready form: dates as ISO strings, keys sorted by the JSON encoder."""

    def convert(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return value

    data = convert(dataclasses.asdict(doc))
    data["format"] = FORMAT
    return data
