"""The sections about the operation's status and its phases: the overall status, the phase list,
and each phase's detail (tasks, criteria, challenges, findings)."""

from __future__ import annotations

import re

from .. import document as d
from ..values import (
    canonical_word,
    plain_heading,
    quoted,
    read_date,
    read_datetime,
    read_duration,
    read_percent,
    split_leading_icon,
    split_trailing_icons,
)
from .blocks import Block
from .expected import split_expected
from .reader import (
    _BRACKETED,
    _PHASE_HEADING,
    _PHASE_REF,
    _phase_number,
    _Reader,
    _status_word,
)


class _PhaseSections(_Reader):
    def _overall(self, blocks: list[Block]) -> None:
        for line, label, value in self._label_lines(blocks, "OVERALL STATUS"):
            words = canonical_word(label)
            names_operation = not self.doc.name and words != "STATUS" and _status_word(split_trailing_icons(value)[0])
            if names_operation or words == "STATUS":
                self._operation_status(line, label, value, names_operation)
            elif words in ("START DATE", "STARTED", "START"):
                self.doc.start_date = self._value(line, read_date, value)
            elif words == "CURRENT PHASE":
                match = _PHASE_REF.match(value)
                if match and _phase_number(match.group("number")) > d.MAX_PHASE_NUMBER:
                    written = quoted(match.group("number"))
                    self.problem(line, f"Phase {written}: phase numbers go up to {d.MAX_PHASE_NUMBER}")
                elif match:
                    self.doc.current_phase = _phase_number(match.group("number"))
                    self.current_phase_title = re.sub(r"^[\s:\-–—]+", "", value[match.end() :]).strip()
                    self.current_phase_line = line
                elif canonical_word(value) not in ("NONE", ""):
                    self.problem(line, f"expected 'Phase N - Title' for the current phase, got '{quoted(value)}'")
            elif words in ("OVERALL PROGRESS", "PROGRESS"):
                self.doc.stated_progress = self._value(line, read_percent, value)
            else:
                self.doc.extra_fields.append([label, value])

    def _operation_status(self, line: int, label: str, value: str, names_operation: bool) -> None:
        status_text, self.doc.status_icon = split_trailing_icons(value)
        status = _status_word(status_text)
        if status is None:
            known = ", ".join(sorted(set(d.STATUS_WORDS.values())))
            self.problem(line, f"unknown status '{quoted(status_text)}' (use one of {known})")
        else:
            self.doc.status = status
        if names_operation:
            self.doc.name = self._fits(line, label, d.MAX_NAME, "operation name")

    def _phases(self, blocks: list[Block]) -> None:
        for heading, body in self._subsections(blocks, "PHASE COMPLETION STATUS"):
            if heading is None:
                for block in body:
                    self._unexpected(block, "the phase list (each phase starts with '### **Phase N: Title**')")
                continue
            phase, hint = self._phase_heading(heading)
            # A phase with a bad heading still has its fields checked, so every problem shows at once.
            target = phase or d.Phase(number=0, title="")
            for line, label, value in self._label_lines(body, f"Phase {phase.number if phase else '?'}"):
                hint = self._phase_field(target, line, label, value) or hint
            if phase is None:
                continue
            if phase.number in self.phases:
                self.problem(heading.line, f"Phase {phase.number} is listed twice")
                continue
            phase.status = hint or self._status_from_progress(phase)
            self._add_phase(phase)

    @staticmethod
    def _status_from_progress(phase: d.Phase) -> str:
        if phase.stated_progress == 100:
            return "complete"
        if phase.stated_progress:
            return "in_progress"
        return "not_started"

    def _phase_heading(self, heading: Block) -> tuple[d.Phase | None, str | None]:
        text, hint = heading.text.strip(), None
        lead, text = split_leading_icon(text)
        text, trail = split_trailing_icons(text)
        for mark in (lead, trail):
            if mark:
                if mark not in d.PHASE_MARKS:
                    marks = " ".join(d.PHASE_MARKS)
                    self.problem(heading.line, f"unknown phase mark '{quoted(mark)}' (use one of {marks})")
                else:
                    hint = d.PHASE_MARKS[mark]
        bracket = _BRACKETED.search(text)
        if bracket and _status_word(bracket.group("word")):
            hint = hint or self._phase_status(_status_word(bracket.group("word")))
            text = text[: bracket.start()].strip()
        _, text = plain_heading(text)
        match = _PHASE_HEADING.match(text)
        if not match:
            self.problem(
                heading.line, f"expected a phase heading like '### **Phase 1: Title** ✅', got '{quoted(heading.text)}'"
            )
            return None, None
        if not match.group("number").isdecimal():  # isdigit() is true of '²', which int() refuses
            self.problem(heading.line, f"the phase number '{quoted(match.group('number'))}' is not a whole number")
            return None, None
        title = self._fits(heading.line, (match.group("title") or "").strip(), d.MAX_TITLE, "phase title")
        number = _phase_number(match.group("number"))
        if number > d.MAX_PHASE_NUMBER:
            written = quoted(match.group("number"))
            self.problem(heading.line, f"Phase {written}: phase numbers go up to {d.MAX_PHASE_NUMBER}")
            return None, None
        if not title:
            self.problem(heading.line, f"Phase {number} has no title")
            self.rejected_phases.add(number)
            return None, None
        return d.Phase(number=number, title=title), hint

    @staticmethod
    def _phase_status(operation_status: str) -> str:
        return operation_status if operation_status in d.PHASE_STATUSES else "in_progress"

    def _phase_field(self, phase: d.Phase, line: int, label: str, value: str) -> str | None:
        """Apply one '- **Label**: value' of a phase; return a status hint if the value gives one."""
        words = canonical_word(label)
        bracket = _BRACKETED.fullmatch(value.strip())
        bracket_status = _status_word(bracket.group("word")) if bracket else None
        if bracket and bracket_status is None:
            self.problem(line, f"unknown marker '{quoted(value)}' (use e.g. [IN PROGRESS] or [NOT STARTED])")
            return None
        if bracket_status and words in ("STATUS", "DURATION"):
            return self._phase_status(bracket_status)
        if words == "STATUS":
            if _status_word(value):
                return self._phase_status(_status_word(value))
            phase.stated_progress = self._value(line, read_percent, value)
        elif words == "DURATION":
            phase.duration_seconds = self._value(line, read_duration, value)
        elif words in ("STARTED", "STARTED AT", "START"):
            phase.started_at = self._value(line, read_datetime, value)
        elif words in ("FINISHED", "FINISHED AT", "COMPLETED", "COMPLETED AT", "ENDED"):
            phase.finished_at = self._value(line, read_datetime, value)
        elif words in ("CURRENT FOCUS", "FOCUS"):
            phase.current_focus = value
        elif words in ("ACHIEVEMENT", "SUMMARY"):
            phase.achievement = value
        else:
            phase.extra_fields.append([label, value])
        return None

    def _phase_detail_content(self, phase: d.Phase, title: str, blocks: list[Block]) -> None:
        where = title
        for heading, body in self._subsections(blocks, where):
            if heading is None:
                for block in body:
                    self._unexpected(block, f"{where} (put lists under '### **Completed Tasks:**' and the like)")
                continue
            kind = self._detail_kind(heading)
            if kind is None:
                continue  # the unknown heading is the one problem to report
            for line, _ordered, text in self._list_items(body, where):
                checked, icon, item_title, detail = self._entry(line, text)
                if not item_title:
                    self.problem(line, "an item with no text")
                elif kind == "completed":
                    if checked is False:
                        self.problem(line, "an unticked '[ ]' item under Completed Tasks")
                    written_as = "box" if checked else "" if icon else "plain"
                    task = d.Task(title=item_title, detail=detail, done=True, icon=icon, written_as=written_as)
                    phase.tasks.append(task)
                elif kind == "pending":
                    written_as = "plain" if checked is None else "pending"
                    task = d.Task(title=item_title, detail=detail, done=bool(checked), icon=icon, written_as=written_as)
                    phase.tasks.append(task)
                elif kind == "criteria":
                    written_as = "plain" if checked is None else ""
                    task = d.Task(title=item_title, detail=detail, done=bool(checked), icon=icon, written_as=written_as)
                    self.criteria.append((phase.number, line, task))
                elif kind == "challenges":
                    phase.challenges.append(d.Challenge(title=item_title, detail=detail, icon=icon))
                else:
                    finding = self._finding(line, icon, item_title, detail)
                    if finding:
                        phase.findings.append(finding)

    def _detail_kind(self, heading: Block) -> str | None:
        words = canonical_word(plain_heading(heading.text)[1])
        for kind, needles in (
            ("criteria", ("CRITERIA",)),
            ("completed", ("COMPLETED", "DONE")),
            ("challenges", ("CHALLENGE",)),
            ("findings", ("INVESTIGATION", "FINDING")),
            ("pending", ("PENDING", "REMAINING", "TODO", "TO DO", "TASKS")),
        ):
            if any(needle in words for needle in needles):
                return kind
        written = quoted(plain_heading(heading.text)[1])
        self.problem(
            heading.line,
            f"unknown subsection '{written}' (expected Completed Tasks, Current Challenge, "
            "Investigation Results, Pending Tasks or Completion Criteria)",
        )
        return None

    # A closing '(...)' is a note; '\)' at the end is a bracket of the observed value itself. (No
    # leading '\s*': searched for, it would scan a run of blanks again from each of its positions.)
    _NOTE = re.compile(r"\((?P<note>[^()]*)(?<!\\)\)\s*$")

    def _finding(self, line: int, icon: str, subject: str, value: str) -> d.Finding | None:
        finding = d.Finding(subject=subject, observed=value)
        note = self._NOTE.search(value)
        if value.endswith("\\)"):
            finding.observed = value[:-2] + ")"
        elif note:
            finding.observed = value[: note.start()].rstrip()
            text = note.group("note").strip()
            expected = split_expected(text)
            if expected:
                finding.expected, finding.note = expected[0], expected[1] or ""
            else:
                finding.note = text
        worded = finding.note.lower() if finding.note.lower() in d.VERDICTS else None
        if icon:
            if icon not in d.VERDICT_MARKS:
                marks = " ".join(d.VERDICT_MARK_FOR.values())
                self.problem(line, f"unknown verdict mark '{quoted(icon)}' for a finding (use {marks})")
                return None
            finding.verdict = d.VERDICT_MARKS[icon]
            if worded and worded != finding.verdict:
                self.problem(line, f"the mark {icon} says {finding.verdict} but the text says ({quoted(finding.note)})")
                return None
        elif worded:
            finding.verdict = worded
        else:
            self.problem(line, f"the finding '{quoted(subject)}' has no verdict: start it with ✅, ⚠️ or ❌")
            return None
        return finding

    def _resolve_references(self) -> None:
        number = self.doc.current_phase
        if number is not None and number not in self.phases and number not in self.rejected_phases:
            if self.doc.phases:
                self.problem(
                    self.current_phase_line, f"the current phase is Phase {number}, which the phase list does not have"
                )
            elif not self.current_phase_title:
                self.problem(self.current_phase_line, f"Phase {number} has no title")
            else:
                self._add_phase(d.Phase(number=number, title=self.current_phase_title, status="in_progress"))
        for ref, line, title, blocks in self.details:
            phase = self.phases.get(ref)
            if phase is None and ref in self.rejected_phases:
                continue
            if phase is None:
                self.problem(line, f"'{quoted(title)}' is about Phase {ref}, which the phase list does not have")
            else:
                self._phase_detail_content(phase, title, blocks)
        for ref, line, task in self.criteria:
            ref = ref if ref is not None else self.doc.current_phase
            phase = self.phases.get(ref) if ref is not None else None
            if phase is None and ref in self.rejected_phases:
                continue
            if phase is None:
                self.problem(
                    line,
                    "completion criteria need a listed phase: head them '### **Phase N Completion Criteria:**'",
                )
            else:
                phase.completion_criteria.append(task)
