"""One activity entry as a sentence a person reads: "Ana ticked ‘Container Optimization’".

The activity log keeps what changed as data (`{field: [old, new]}`, values as JSON: ISO times,
seconds, ids' labels). The page used to print that data, backticks and timestamps included; this
module says it in words instead. It needs no Django: it reads the entry's plain attributes, and
returns the sentence as parts, so the template tag decides how each part is marked up (a quoted
title is rendered as the team's inline markdown, the rest is escaped text).

The time of the entry is not part of the sentence: the page shows it beside it, in a `<time>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .values import write_duration

CHECK_PREFIX = "check: "  # what tracker.services.attributed names a check's changes (ops.sync)
MAX_VALUE = 60  # characters of a changed value the sentence quotes

# Fields that follow from another change in the same entry (a tick stamps `done_at`), or that a
# person does not read (positions): they never make a sentence of their own.
_IMPLIED = {"done_at", "resolved_at", "opened_at", "started_at", "finished_at", "position", "written_as"}
# Bookkeeping a worker does on its own (a check's next run): logged, but no news to a person.
_ROUTINE = {
    "next_due_at",
    "last_run_at",
    "last_good_at",
    "consecutive_errors",
    "claim_id",
    "claimed_until",
    "checked_at",
}
_FIELD_NAMES = {
    "status_text": "status",
    "stated_progress": "stated progress",
    "current_focus": "current focus",
    "live_verdict": "live verdict",
    "live_observed": "live value",
}
# What adding an item of each kind is called.
_CREATE_VERBS = {
    "blocker": "raised the blocker",
    "decision": "recorded the decision",
    "operation": "created the operation",
}
# Fields whose new value the sentence says ("changed the severity of … to primary"); a prose field
# (a description, a note) is only named: the item itself shows its words.
_QUOTED_FIELDS = {
    "title",
    "subject",
    "name",
    "status",
    "severity",
    "verdict",
    "stated_progress",
    "duration",
    "kind",
    "phase",
    "icon",
    "emoji",
    "category",
    "group",
    "number",
    "role",
}
_PHASE_STATUS = {
    "not_started": "not started",
    "in_progress": "in progress",
    "complete": "complete",
    "blocked": "blocked",
}


class Entry(Protocol):
    actor_id: int | None
    actor_name: str
    action: str
    subject_type: str
    subject_label: str
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: plain `text`, or a `title` (the team's words, quoted and rendered)."""

    kind: Literal["text", "title"]
    value: str


def _text(value: str) -> Part:
    return Part("text", value)


def _title(value: str) -> Part:
    return Part("title", value)


def actor_phrase(entry: Entry, viewer_id: int | None = None) -> str:
    """Who made the change, as the sentence's subject."""
    if viewer_id is not None and entry.actor_id == viewer_id:
        return "You"
    name = entry.actor_name or "someone"
    if name.startswith(CHECK_PREFIX):
        return f"The check “{name.removeprefix(CHECK_PREFIX)}”"
    if name == "system":
        return "The system"
    return name


def describe(entry: Entry, viewer_id: int | None = None) -> list[Part]:
    """The entry as a sentence, without its time: who, did what, to which item."""
    return [_text(actor_phrase(entry, viewer_id) + " "), *_predicate(entry)]


def _predicate(entry: Entry) -> list[Part]:
    kind, label = entry.subject_type, entry.subject_label
    if entry.action == "created":
        return [_text(_CREATE_VERBS.get(kind, f"added the {kind}") + " "), _title(label)]
    if entry.action == "deleted":
        return [_text(f"deleted the {kind} "), _title(label)]
    if entry.action == "imported":
        return [_text("imported the tracker "), _title(label)]
    if entry.action == "replaced":
        return [_text("replaced the tracker with a new upload of "), _title(label)]
    return _updated(kind, label, dict(entry.changes or {}))


def _updated(kind: str, label: str, changes: dict[str, Any]) -> list[Part]:
    """What an update did, by the field that says most about it."""
    done = changes.get("done")
    if done is not None and kind in ("task", "next step", "completion criterion"):
        verb = "ticked" if done[1] else "reopened"
        noun = "" if kind == "task" else f"the {kind} "
        return [_text(f"{verb} {noun}"), _title(label)]
    state = changes.get("state")
    if state is not None and kind == "blocker":
        return [_text(f"{'resolved' if state[1] == 'resolved' else 'reopened'} the blocker "), _title(label)]
    if "current_phase" in changes and kind == "operation":
        new = changes["current_phase"][1]
        return [_text("moved the current phase to "), _title(new)] if new else [_text("cleared the current phase")]
    if "live_verdict" in changes:
        verdict = {"pass": "passing", "fail": "failing"}.get(changes["live_verdict"][1], "unchecked")
        return [_text(f"found the {kind} "), _title(label), _text(f" {verdict}")]
    if "status" in changes and kind == "phase":
        status = _PHASE_STATUS.get(str(changes["status"][1]), str(changes["status"][1]))
        return [_text("marked "), _title(label), _text(f" {status}")]
    return _edited(kind, label, changes)


def _edited(kind: str, label: str, changes: dict[str, Any]) -> list[Part]:
    fields = [name for name in changes if name not in _IMPLIED] or list(changes)
    if not fields:
        return [_text(f"edited the {kind} "), _title(label)]
    if len(fields) == 1:
        name = fields[0]
        new = changes[name][1] if isinstance(changes[name], (list, tuple)) and len(changes[name]) == 2 else None
        parts = [_text(f"changed the {field_name(name)} of the {kind} "), _title(label)]
        if name in _QUOTED_FIELDS and (value := value_phrase(name, new)) is not None:
            parts += [_text(" to "), _title(value) if isinstance(new, str) and new else _text(value)]
        return parts
    names = ", ".join(field_name(name) for name in fields[:-1]) + f" and {field_name(fields[-1])}"
    return [_text(f"edited the {names} of the {kind} "), _title(label)]


def is_routine(entry: Entry) -> bool:
    """An update that only moved bookkeeping fields (a check's next run): the summary leaves it out."""
    changes = entry.changes or {}
    return entry.action == "updated" and bool(changes) and changes.keys() <= (_ROUTINE | _IMPLIED)


def field_name(name: str) -> str:
    if name in _FIELD_NAMES:
        return _FIELD_NAMES[name]
    words = name.replace("_", " ")
    return words.removesuffix(" at") + " time" if name.endswith("_at") else words


def value_phrase(name: str, value: Any) -> str | None:
    """A changed value as the sentence says it; None when it would only be noise (long text)."""
    if value is None or value == "":
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "duration" and isinstance(value, (int, float)):
        return write_duration(int(value))
    if name.endswith("progress") and isinstance(value, (int, float)):
        return f"{value}%"
    text = str(value)
    if "\n" in text:
        return None
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
