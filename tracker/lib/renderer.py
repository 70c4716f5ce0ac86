"""Write a `TrackerDocument` back as markdown, in the style of the hand-written trackers.

The output is what `parser.parse` reads back to the same document; the example tracker comes
back byte for byte.
"""

from __future__ import annotations

from . import document as d
from .values import write_date, write_datetime, write_duration, write_percent


def render(doc: d.TrackerDocument) -> str:
    doc = d.normalize(doc)
    blocks: list[str] = [_heading(1, doc.emoji, doc.title or doc.default_title())]
    if doc.motto:
        blocks.append(_quote(doc.motto))
    for section in doc.sections:
        blocks.extend(_section(doc, section))
        if section.rule_after:
            blocks.append("---")
    if doc.footer:
        blocks.append(doc.footer)
    return "\n\n".join(blocks) + "\n"


def _heading(level: int, emoji: str, title: str, *, bold: bool = True) -> str:
    return f"{'#' * level} {emoji + ' ' if emoji else ''}{f'**{title}**' if bold else title}"


def _titled(title: str, body: str) -> str:
    """A '### **Title:**' line directly over its list, as the trackers write it; no title, no line."""
    return f"### **{title}:**\n{body}" if title else body


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _continued(text: str) -> str:
    """Continuation lines of a list item are indented so they stay inside the item."""
    return text.replace("\n", "\n  ")


def _entry(title: str, detail: str = "", *, icon: str = "", checkbox: bool | None = None) -> str:
    box = "" if checkbox is None else ("[x] " if checkbox else "[ ] ")
    icon = f"{icon} " if icon else ""
    body = f"**{title}**: {detail}" if detail else title
    return _continued(f"{box}{icon}{body}")


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))


def _fields(fields: list[tuple[str, str]]) -> list[str]:
    return [_continued(f"**{label}**: {value}") for label, value in fields]


def _groups(items: list, key) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.items())


def _section(doc: d.TrackerDocument, section: d.Section) -> list[str]:
    if section.key == "note":
        note = doc.notes[section.ref]
        return [_heading(2, note.emoji, note.title, bold=section.bold)] + ([note.body] if note.body else [])
    blocks = [_heading(2, section.emoji, section.title or _default_title(section), bold=section.bold)]
    if section.key == "phase_detail":
        blocks += _phase_detail(doc.phase(section.ref))
    else:
        blocks += globals()[f"_{section.key}"](doc)
    return blocks


def _default_title(section: d.Section) -> str:
    if section.key == "phase_detail":
        return d.phase_detail_title(section.ref)
    return d.DEFAULT_SECTION_HEADINGS[section.key][1]


def _overall(doc: d.TrackerDocument) -> list[str]:
    status = d.STATUS_WORDS[doc.status] + (f" {doc.status_icon}" if doc.status_icon else "")
    fields = [(doc.name, status)]
    if doc.start_date:
        fields.append(("Start Date", write_date(doc.start_date)))
    current = doc.phase(doc.current_phase) if doc.current_phase is not None else None
    if current:
        fields.append(("Current Phase", f"Phase {current.number} - {current.title}"))
    if doc.stated_progress is not None:
        fields.append(("Overall Progress", write_percent(doc.stated_progress)))
    fields += [(label, value) for label, value in doc.extra_fields]
    return ["\n".join(_fields(fields))]


def _phases(doc: d.TrackerDocument) -> list[str]:
    blocks = []
    for phase in doc.phases:
        heading = f"### **Phase {phase.number}: {phase.title}** {d.PHASE_MARK_FOR[phase.status]}"
        fields: list[tuple[str, str]] = []
        if phase.stated_progress is not None:
            fields.append(("Status", write_percent(phase.stated_progress)))
        if phase.duration_seconds is not None:
            fields.append(("Duration", write_duration(phase.duration_seconds)))
        elif phase.status != "complete":
            fields.append(("Duration", f"[{d.STATUS_WORDS[phase.status]}]"))
        if phase.started_at:
            fields.append(("Started", write_datetime(phase.started_at)))
        if phase.finished_at:
            fields.append(("Finished", write_datetime(phase.finished_at)))
        if phase.current_focus:
            fields.append(("Current Focus", phase.current_focus))
        if phase.achievement:
            fields.append(("Achievement", phase.achievement))
        fields += [(label, value) for label, value in phase.extra_fields]
        blocks.append("\n".join([heading, _bullets(_fields(fields))]) if fields else heading)
    return blocks


def _phase_detail(phase: d.Phase) -> list[str]:
    blocks = []
    done = [t for t in phase.tasks if not d.listed_pending(t)]
    pending = [t for t in phase.tasks if d.listed_pending(t)]
    if done:
        blocks.append(_titled("Completed Tasks", _bullets([_completed(t) for t in done])))
    if phase.challenges:
        lines = [_entry(c.title, c.detail, icon=c.icon or d.CHALLENGE_ICON) for c in phase.challenges]
        blocks.append(_titled("Current Challenge", _bullets(lines)))
    if phase.findings:
        blocks.append(_titled("Investigation Results", _bullets([_finding(f) for f in phase.findings])))
    if pending:
        lines = [_entry(t.title, t.detail, icon=t.icon, checkbox=_box(t, usual=True)) for t in pending]
        blocks.append(_titled("Pending Tasks", _bullets(lines)))
    return blocks


def _completed(task: d.Task) -> str:
    if task.written_as == "box":
        return _entry(task.title, task.detail, icon=task.icon, checkbox=True)
    icon = task.icon if task.written_as == "plain" else task.icon or d.DONE_ICON
    return _entry(task.title, task.detail, icon=icon)


def _box(item: d.Task | d.NextStep, *, usual: bool) -> bool | None:
    """The item's checkbox (None: none), as the team wrote it: `usual` is whether its list has one."""
    if item.done:
        return True
    boxed = item.written_as == "box" if not usual else item.written_as != "plain"
    return False if boxed else None


def _finding(finding: d.Finding) -> str:
    value = finding.observed
    if finding.expected:
        note = f"; {finding.note}" if finding.note else ""
        value = f"{value} (expected: {finding.expected}{note})".strip()
    elif finding.note:
        value = f"{value} ({finding.note})".strip()
    elif value.endswith(")"):
        value = value[:-1] + "\\)"  # its own bracket, not a note; markdown shows '\\)' as ')'
    return _entry(finding.subject, value, icon=d.VERDICT_MARK_FOR[finding.verdict])


def _decisions(doc: d.TrackerDocument) -> list[str]:
    blocks = []
    for group, decisions in _groups(doc.decisions, lambda x: x.group):
        blocks.append(_titled(group, _numbered([_entry(x.title, x.detail) for x in decisions])))
    return blocks


def _blockers(doc: d.TrackerDocument) -> list[str]:
    def group(blocker: d.Blocker) -> str:
        return "Resolved" if blocker.resolved else blocker.severity.title()

    blocks = []
    for name, blockers in _groups(doc.blockers, group):
        lines = []
        for blocker in blockers:
            # Always bold, so a blocker titled 'None' is not read as "no blockers".
            lines.append(
                _continued(f"**{blocker.title}**" + (f": {blocker.description}" if blocker.description else ""))
            )
            fields = [("Impact", blocker.impact), ("Status", blocker.status_text)]
            if blocker.resolved and blocker.severity != "primary":
                fields.append(("Severity", blocker.severity.title()))
            if blocker.opened_at:
                fields.append(("Opened", write_datetime(blocker.opened_at)))
            if blocker.resolved:
                fields.append(("Resolved", write_datetime(blocker.resolved_at) if blocker.resolved_at else "Yes"))
            lines += _fields([(label, value) for label, value in fields if value])
        blocks.append(_titled(f"{name} Blocker{'' if len(blockers) == 1 else 's'}", _bullets(lines)))
    return blocks


def _achievements(doc: d.TrackerDocument) -> list[str]:
    blocks = []
    for category, achievements in _groups(doc.achievements, lambda x: x.category):
        blocks.append(_titled(category, _bullets([_entry(x.title, x.detail, icon=x.icon) for x in achievements])))
    return blocks


def _wisdom(doc: d.TrackerDocument) -> list[str]:
    return [_quote(quote) for quote in doc.quotes]


def _next_steps(doc: d.TrackerDocument) -> list[str]:
    blocks = []
    for group, steps in _groups(doc.next_steps, lambda x: x.group):
        lines = [_entry(s.title, s.detail, icon=s.icon, checkbox=_box(s, usual=False)) for s in steps]
        blocks.append(_titled(group, _numbered(lines)))
    for phase in doc.phases:
        if phase.completion_criteria:
            lines = [
                _entry(t.title, t.detail, icon=t.icon, checkbox=_box(t, usual=True)) for t in phase.completion_criteria
            ]
            blocks.append(_titled(f"Phase {phase.number} Completion Criteria", _bullets(lines)))
    return blocks
