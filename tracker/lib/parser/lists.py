"""The sections that are lists: decisions, blockers, achievements, wisdom and next steps."""

from __future__ import annotations

from .. import document as d
from ..values import (
    canonical_word,
    plain_heading,
    quoted,
    read_datetime,
)
from .blocks import Block
from .reader import _NO_BLOCKERS, _PHASE_NUMBER_IN, _phase_number, _Reader


class _ListSections(_Reader):
    def _decisions(self, blocks: list[Block]) -> None:
        for heading, body in self._subsections(blocks, "DECISIONS"):
            group = self._group(heading)
            for line, _ordered, text in self._list_items(body, "DECISIONS"):
                _checked, _icon, title, detail = self._entry(line, text)
                self.doc.decisions.append(d.Decision(title=title, detail=detail, group=group))

    _BLOCKER_FIELDS = {
        "IMPACT": "impact",
        "STATUS": "status_text",
        "DESCRIPTION": "description",
        "OPENED": "opened_at",
        "OPENED AT": "opened_at",
        "RAISED": "opened_at",
        "SINCE": "opened_at",
        "RESOLVED": "resolved_at",
        "RESOLVED AT": "resolved_at",
        "SEVERITY": "severity",
    }

    def _blockers(self, blocks: list[Block]) -> None:
        for heading, body in self._subsections(blocks, "BLOCKERS"):
            severity, resolved = "primary", False
            if heading is not None:
                words = canonical_word(plain_heading(heading.text)[1])
                resolved = "RESOLVED" in words
                if "SECONDARY" in words:
                    severity = "secondary"
                elif "PRIMARY" not in words and not resolved and "BLOCKER" not in words:
                    self.problem(
                        heading.line,
                        f"unknown blocker group '{quoted(plain_heading(heading.text)[1])}' "
                        "(use Primary Blocker, Secondary Blockers or Resolved Blockers)",
                    )
            blocker: d.Blocker | None = None
            for line, _ordered, text in self._list_items(body, "BLOCKERS"):
                _checked, _icon, label, value = self._entry(line, text)
                field_name = (
                    self._BLOCKER_FIELDS.get(canonical_word(label))
                    if value or canonical_word(label) == "RESOLVED"
                    else None
                )
                if field_name is None:
                    if not text.lstrip().startswith("**") and canonical_word(text) in _NO_BLOCKERS:
                        continue
                    blocker = d.Blocker(title=label, description=value, severity=severity, resolved=resolved)
                    self.doc.blockers.append(blocker)
                elif blocker is None:
                    written = quoted(label)
                    self.problem(
                        line, f"'{written}' comes before any blocker: start with '- **Blocker title**: description'"
                    )
                else:
                    self._blocker_field(blocker, line, field_name, value)

    def _blocker_field(self, blocker: d.Blocker, line: int, field_name: str, value: str) -> None:
        if field_name == "severity":
            severity = value.strip().lower()
            if severity not in d.SEVERITIES:
                self.problem(line, f"unknown severity '{quoted(value)}' (use primary or secondary)")
            else:
                blocker.severity = severity
        elif field_name == "resolved_at":
            blocker.resolved = True
            if canonical_word(value) not in ("", "YES", "TRUE"):
                blocker.resolved_at = self._value(line, read_datetime, value)
        elif field_name == "opened_at":
            blocker.opened_at = self._value(line, read_datetime, value)
        else:
            setattr(blocker, field_name, value)

    def _achievements(self, blocks: list[Block]) -> None:
        for heading, body in self._subsections(blocks, "ACHIEVEMENTS"):
            category = self._group(heading)
            for line, _ordered, text in self._list_items(body, "ACHIEVEMENTS"):
                _checked, icon, title, detail = self._entry(line, text)
                self.doc.achievements.append(d.Achievement(title=title, detail=detail, category=category, icon=icon))

    def _wisdom(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.kind == "quote":
                self.doc.quotes.append(block.text)
            else:
                self._unexpected(block, "WISDOM (write quotes as '> ...')")

    def _next_steps(self, blocks: list[Block]) -> None:
        for heading, body in self._subsections(blocks, "NEXT STEPS"):
            group = self._group(heading)
            words = canonical_word(group)
            for line, _ordered, text in self._list_items(body, "NEXT STEPS"):
                checked, icon, title, detail = self._entry(line, text)
                if words.endswith("CRITERIA"):
                    number = _PHASE_NUMBER_IN.search(words)
                    written_as = "plain" if checked is None else ""
                    task = d.Task(title=title, detail=detail, done=bool(checked), icon=icon, written_as=written_as)
                    self.criteria.append((_phase_number(number.group(1)) if number else None, line, task))
                else:
                    written_as = "box" if checked is False else ""
                    step = d.NextStep(
                        title=title, detail=detail, done=bool(checked), group=group, icon=icon, written_as=written_as
                    )
                    self.doc.next_steps.append(step)

    # Cross-references, once every section is read ---------------------------------------------
