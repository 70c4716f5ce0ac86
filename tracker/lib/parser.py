"""Parse a hand-written markdown progress tracker into a `TrackerDocument`.

The document family (see `shared/examples/operation-snail-trail.md`) is a title, an optional
motto quote, then `##` sections recognised by the words in their heading (OVERALL STATUS,
PHASE ... STATUS, PHASE N DETAILED PROGRESS, DECISIONS, BLOCKERS, ACHIEVEMENTS, WISDOM,
NEXT STEPS) in any order. A section the tracker does not know is kept verbatim as a note.

markdown-it-py does the tokenizing, so lists, quotes and headings are what CommonMark says they
are and every token carries its line; this module only interprets the blocks. Every problem is
collected with its line number and reported together, so one run shows everything to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from . import document as d
from .values import (
    canonical_word,
    plain_heading,
    read_date,
    read_datetime,
    read_duration,
    read_percent,
    split_checkbox,
    split_label,
    split_leading_icon,
    split_trailing_icons,
)

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class DocumentError(Exception):
    """The document cannot be imported; `problems` says where and why, one entry per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in self.problems))

    def format(self, path: str) -> str:
        return "\n".join(f"{path}:{p.line}: {p.message}" for p in self.problems)


def decode(data: bytes) -> str:
    """Bytes of an uploaded or read file -> text, refusing what is not a UTF-8 text document."""
    if not data.strip():
        raise DocumentError([Problem(1, "the document is empty")])
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError([Problem(1, f"the document is larger than {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB")])
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DocumentError([Problem(line, "this is a binary file, not a markdown document (it has NUL bytes)")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DocumentError(
            [Problem(line, f"the document is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be read)")]
        ) from None
    return text.removeprefix("\ufeff")


# --- blocks -----------------------------------------------------------------------------------


@dataclass
class Item:
    line: int
    text: str = ""
    nested: bool = False  # a sub-list or a second paragraph: not part of this grammar


@dataclass
class Block:
    kind: str  # heading | paragraph | list | quote | rule | other
    line: int  # 1-based line of the block's first line
    end: int  # 1-based line after the block
    level: int = 0
    text: str = ""
    ordered: bool = False
    items: list[Item] = field(default_factory=list)


# Only the block structure is needed: the grammar reads each inline token's raw source (`content`),
# so the inline pass, two thirds of markdown-it's time on a large document, is switched off.
_markdown = MarkdownIt("commonmark").disable(["inline", "text_join"])


def _blocks(text: str) -> list[Block]:
    tokens = _markdown.parse(text)
    blocks: list[Block] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        start, end = (token.map or (0, 0))[0] + 1, (token.map or (0, 0))[1] + 1
        if token.type == "heading_open":
            blocks.append(Block("heading", start, end, level=int(token.tag[1]), text=tokens[i + 1].content))
            i += 3
        elif token.type == "paragraph_open":
            blocks.append(Block("paragraph", start, end, text=tokens[i + 1].content))
            i += 3
        elif token.type == "hr":
            blocks.append(Block("rule", start, end))
            i += 1
        elif token.type == "blockquote_open":
            close = _closing(tokens, i)
            paragraphs = [t.content for t in tokens[i:close] if t.type == "inline"]
            blocks.append(Block("quote", start, end, text="\n\n".join(paragraphs)))
            i = close + 1
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            close = _closing(tokens, i)
            blocks.append(_list_block(tokens[i : close + 1], start, end))
            i = close + 1
        else:
            blocks.append(Block("other", start, end, text=token.type.removesuffix("_open")))
            i = _closing(tokens, i) + 1 if token.nesting == 1 else i + 1
    return blocks


def _closing(tokens, index: int) -> int:
    depth = 0
    for j in range(index, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _list_block(tokens, start: int, end: int) -> Block:
    block = Block("list", start, end, ordered=tokens[0].type == "ordered_list_open")
    item_level = tokens[0].level + 1
    for token in tokens[1:-1]:
        if token.type == "list_item_open" and token.level == item_level:
            block.items.append(Item(line=token.map[0] + 1))
        elif token.type == "inline" and token.level == item_level + 2 and not block.items[-1].text:
            block.items[-1].text = token.content
        elif token.level > item_level and token.nesting != -1 and token.type != "paragraph_open":
            block.items[-1].nested = True
        elif token.type == "inline":
            block.items[-1].nested = True
    return block


# --- the parser ---------------------------------------------------------------------------------

_PHASE_HEADING = re.compile(r"^Phase\s+(?P<number>[^\s:\-–—]+)\s*(?:[:\-–—]\s*(?P<title>.*))?$", re.IGNORECASE)
_PHASE_REF = re.compile(r"^Phase\s+(?P<number>\d+)\b", re.IGNORECASE)
_PHASE_NUMBER_IN = re.compile(r"\bPHASE\s+(\d+)\b")
_BRACKETED = re.compile(r"\[(?P<word>[A-Za-z ]+)\]\s*$")
_NO_BLOCKERS = {"NONE", "NO BLOCKERS", "NO CURRENT BLOCKERS", "NONE CURRENTLY"}

_SECTION_WORDS = (
    ("overall", ("OVERALL STATUS", "STATUS OVERVIEW")),
    ("phase_detail", ("DETAILED PROGRESS", "PROGRESS DETAIL", "DETAILS")),
    ("phases", ("PHASE COMPLETION", "PHASE STATUS", "PHASES")),
    ("decisions", ("DECISION",)),
    ("blockers", ("BLOCKER",)),
    ("achievements", ("ACHIEVEMENT", "ACCOMPLISHMENT")),
    ("wisdom", ("WISDOM", "QUOTES")),
    ("next_steps", ("NEXT STEPS",)),
)


def _section_key(title: str) -> str:
    words = canonical_word(title)
    for key, needles in _SECTION_WORDS:
        if any(needle in words for needle in needles):
            if key == "phase_detail" and not _PHASE_NUMBER_IN.search(words):
                continue
            return key
    return "note"


def _status_word(text: str) -> str | None:
    return d.OPERATION_STATUSES.get(canonical_word(text))


def parse(text: str) -> d.TrackerDocument:
    """Parse a tracker document; raise `DocumentError` listing every problem found."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.blocks = _blocks(text)
        self.problems: list[Problem] = []
        self.doc = d.TrackerDocument(name="")
        self.title_name = ""
        self.current_phase_title = ""
        self.current_phase_line = 0
        # phase number -> (line, contents) for details that may come before the phase list
        self.details: list[tuple[int, int, str, list]] = []
        self.criteria: list[tuple[int | None, int, d.Task]] = []
        # Phases whose heading was refused: references to them are not reported a second time.
        self.rejected_phases: set[int] = set()

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    # The whole document ------------------------------------------------------------------------

    def parse(self) -> d.TrackerDocument:
        if not any(b.kind != "other" or b.text for b in self.blocks) or not "".join(self.lines).strip():
            raise DocumentError([Problem(1, "the document is empty")])
        sections = self._split_sections()
        for heading, body in sections:
            if heading is None:
                self._preamble(body)
            else:
                self._section(heading, body)
        self._resolve_references()
        if not self.doc.name:
            self.doc.name = self.title_name
        if self.doc.name and (not any(c.isalnum() for c in self.doc.name) or "*" in self.doc.name):
            self.problem(1, f"the operation name '{self.doc.name}' needs letters or digits and no '*'")
        elif not self.doc.name:
            self.problem(
                1,
                "the document names no operation: start with a title like '# 🐌 **OPERATION NAME: PROGRESS TRACKER**'",
            )
        if self.problems:
            raise DocumentError(self.problems)
        return d.normalize(self.doc)

    def _split_sections(self) -> list[tuple[Block | None, list[Block]]]:
        sections: list[tuple[Block | None, list[Block]]] = [(None, [])]
        for block in self.blocks:
            if block.kind == "heading" and block.level <= 2 and (block.level == 2 or len(sections) > 1):
                if block.level == 1:
                    self.problem(block.line, "a second '#' title; sections start with '##'")
                    continue
                sections.append((block, []))
            else:
                sections[-1][1].append(block)
        # The closing line after the last `---` is the footer.
        heading, body = sections[-1]
        rules = [i for i, b in enumerate(body) if b.kind == "rule"]
        if rules and heading is not None:
            tail = body[rules[-1] + 1 :]
            if tail and all(b.kind == "paragraph" for b in tail):
                self.doc.footer = "\n\n".join(b.text for b in tail)
                del body[rules[-1] + 1 :]
        return sections

    def _preamble(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.kind == "heading" and block.level == 1 and not self.title_name:
                self.doc.emoji, title = plain_heading(block.text)
                self.doc.title = self._fits(block.line, title, d.MAX_TITLE, "title")
                name, _, _suffix = title.rpartition(":")
                self.title_name = self._fits(block.line, (name or title).strip().title(), d.MAX_NAME, "operation name")
            elif block.kind == "quote" and not self.doc.motto:
                self.doc.motto = block.text
            elif block.kind == "rule":
                continue
            else:
                self.problem(block.line, "expected only the '#' title and a '>' quote before the first '##' section")

    def _section(self, heading: Block, blocks: list[Block]) -> None:
        emoji, title = plain_heading(heading.text)
        key = _section_key(title)
        section = d.Section(key=key, emoji=emoji, title=title)
        if blocks and blocks[-1].kind == "rule":
            section.rule_after = True
        content = [b for b in blocks if b.kind != "rule"]
        if key == "phase_detail":
            section.ref = int(_PHASE_NUMBER_IN.search(canonical_word(title)).group(1))
            self.details.append((section.ref, heading.line, title, content))
        elif key == "note":
            section.ref, section.emoji, section.title = len(self.doc.notes), "", ""
            self.doc.notes.append(d.Note(title=title, emoji=emoji, body=self._source(blocks)))
        else:
            getattr(self, f"_{key}")(content)
        self.doc.sections.append(section)

    def _source(self, blocks: list[Block]) -> str:
        if blocks and blocks[-1].kind == "rule":
            blocks = blocks[:-1]
        if not blocks:
            return ""
        return "\n".join(self.lines[blocks[0].line - 1 : blocks[-1].end - 1]).strip("\n")

    # Helpers shared by the sections -------------------------------------------------------------

    def _label_lines(self, blocks: list[Block], where: str):
        """Yield (line, label, value) from paragraphs of bold labels or a list of them."""
        for block in blocks:
            if block.kind == "paragraph":
                for offset, text in enumerate(block.text.split("\n")):
                    yield from self._label_line(block.line + offset, text, where)
            elif block.kind == "list":
                for item in self._items(block):
                    yield from self._label_line(item.line, item.text, where)
            else:
                self._unexpected(block, where)

    def _label_line(self, line: int, text: str, where: str):
        labelled = split_label(text.strip())
        if labelled is None:
            self.problem(line, f"expected '**Label**: value' in {where}, got '{text.strip()}'")
        else:
            yield line, labelled[0], labelled[1]

    def _items(self, block: Block) -> list[Item]:
        for item in block.items:
            if item.nested:
                self.problem(item.line, "nested lists and multi-paragraph items are not part of a tracker list")
        return [item for item in block.items if not item.nested]

    def _unexpected(self, block: Block, where: str) -> None:
        what = {"heading": f"level-{block.level} heading", "other": f"{block.text} block"}.get(block.kind, block.kind)
        self.problem(block.line, f"unexpected {what} in {where}")

    def _subsections(self, blocks: list[Block], where: str):
        """Yield (heading_block_or_None, blocks) for the '###' subsections of a section."""
        current: Block | None = None
        collected: list[Block] = []
        for block in blocks:
            if block.kind == "heading" and block.level == 3:
                if current is not None or collected:
                    yield current, collected
                current, collected = block, []
            elif block.kind == "heading":
                self._unexpected(block, where)
            else:
                collected.append(block)
        if current is not None or collected:
            yield current, collected

    def _list_items(self, blocks: list[Block], where: str):
        """Yield (line, ordered, text) for every item of the lists in `blocks`."""
        for block in blocks:
            if block.kind == "list":
                for item in self._items(block):
                    yield item.line, block.ordered, item.text
            else:
                self._unexpected(block, where)

    def _entry(self, line: int, text: str) -> tuple[bool | None, str, str, str]:
        """'[ ] 🔧 **Title**: detail' -> (False, '🔧', 'Title', 'detail')."""
        checked, rest = split_checkbox(text.strip())
        icon, rest = split_leading_icon(rest)
        labelled = split_label(rest)
        title, detail = (rest.strip(), "") if labelled is None else labelled
        self._fits(line, title.replace("\n", " "), d.MAX_TITLE, "title")
        self._fits(line, icon, d.MAX_ICON, "icon")
        if "\n" in title:
            self.problem(line, "a title must fit on one line")
        return checked, icon, title, detail

    def _fits(self, line: int, text: str, limit: int, what: str) -> str:
        if len(text) > limit:
            self.problem(line, f"the {what} is {len(text)} characters long; the limit is {limit}")
        return text

    def _group(self, heading: Block | None) -> str:
        if heading is None:
            return ""
        return self._fits(heading.line, plain_heading(heading.text)[1], d.MAX_NAME, "heading")

    def _value(self, line: int, reader, value: str):
        try:
            return reader(value)
        except ValueError as error:
            self.problem(line, str(error))
            return None

    # Sections ---------------------------------------------------------------------------------

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
                if match:
                    self.doc.current_phase = int(match.group("number"))
                    self.current_phase_title = re.sub(r"^[\s:\-–—]+", "", value[match.end() :]).strip()
                    self.current_phase_line = line
                elif canonical_word(value) not in ("NONE", ""):
                    self.problem(line, f"expected 'Phase N - Title' for the current phase, got '{value}'")
            elif words in ("OVERALL PROGRESS", "PROGRESS"):
                self.doc.stated_progress = self._value(line, read_percent, value)
            else:
                self.doc.extra_fields.append([label, value])

    def _operation_status(self, line: int, label: str, value: str, names_operation: bool) -> None:
        status_text, self.doc.status_icon = split_trailing_icons(value)
        status = _status_word(status_text)
        if status is None:
            known = ", ".join(sorted(set(d.STATUS_WORDS.values())))
            self.problem(line, f"unknown status '{status_text}' (use one of {known})")
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
            if self.doc.phase(phase.number):
                self.problem(heading.line, f"Phase {phase.number} is listed twice")
                continue
            phase.status = hint or self._status_from_progress(phase)
            self.doc.phases.append(phase)

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
                    self.problem(heading.line, f"unknown phase mark '{mark}' (use one of {marks})")
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
                heading.line, f"expected a phase heading like '### **Phase 1: Title** ✅', got '{heading.text}'"
            )
            return None, None
        if not match.group("number").isdigit():
            self.problem(heading.line, f"the phase number '{match.group('number')}' is not a whole number")
            return None, None
        title = self._fits(heading.line, (match.group("title") or "").strip(), d.MAX_TITLE, "phase title")
        if int(match.group("number")) > d.MAX_PHASE_NUMBER:
            self.problem(heading.line, f"Phase {match.group('number')}: phase numbers go up to {d.MAX_PHASE_NUMBER}")
            return None, None
        if not title:
            self.problem(heading.line, f"Phase {match.group('number')} has no title")
            self.rejected_phases.add(int(match.group("number")))
            return None, None
        return d.Phase(number=int(match.group("number")), title=title), hint

    @staticmethod
    def _phase_status(operation_status: str) -> str:
        return operation_status if operation_status in d.PHASE_STATUSES else "in_progress"

    def _phase_field(self, phase: d.Phase, line: int, label: str, value: str) -> str | None:
        """Apply one '- **Label**: value' of a phase; return a status hint if the value gives one."""
        words = canonical_word(label)
        bracket = _BRACKETED.fullmatch(value.strip())
        bracket_status = _status_word(bracket.group("word")) if bracket else None
        if bracket and bracket_status is None:
            self.problem(line, f"unknown marker '{value}' (use e.g. [IN PROGRESS] or [NOT STARTED])")
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
                    phase.tasks.append(d.Task(title=item_title, detail=detail, done=True, icon=icon))
                elif kind == "pending":
                    phase.tasks.append(d.Task(title=item_title, detail=detail, done=bool(checked), icon=icon))
                elif kind == "criteria":
                    self.criteria.append(
                        (phase.number, line, d.Task(title=item_title, detail=detail, done=bool(checked), icon=icon))
                    )
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
        self.problem(
            heading.line,
            f"unknown subsection '{plain_heading(heading.text)[1]}' (expected Completed Tasks, Current Challenge, "
            "Investigation Results, Pending Tasks or Completion Criteria)",
        )
        return None

    # A closing '(...)' is a note; '\)' at the end is a bracket of the observed value itself.
    _NOTE = re.compile(r"\s*\((?P<note>[^()]*)(?<!\\)\)\s*$")
    _EXPECTED = re.compile(r"^expected:?\s+(?P<value>.+?)(?:;\s+(?P<note>.*))?$", re.IGNORECASE)

    def _finding(self, line: int, icon: str, subject: str, value: str) -> d.Finding | None:
        finding = d.Finding(subject=subject, observed=value)
        note = self._NOTE.search(value)
        if value.endswith("\\)"):
            finding.observed = value[:-2] + ")"
        elif note:
            finding.observed = value[: note.start()].rstrip()
            text = note.group("note").strip()
            expected = self._EXPECTED.match(text)
            if expected:
                finding.expected = expected.group("value")
                finding.note = expected.group("note") or ""
            else:
                finding.note = text
        worded = finding.note.lower() if finding.note.lower() in d.VERDICTS else None
        if icon:
            if icon not in d.VERDICT_MARKS:
                marks = " ".join(d.VERDICT_MARK_FOR.values())
                self.problem(line, f"unknown verdict mark '{icon}' for a finding (use {marks})")
                return None
            finding.verdict = d.VERDICT_MARKS[icon]
            if worded and worded != finding.verdict:
                self.problem(line, f"the mark {icon} says {finding.verdict} but the text says ({finding.note})")
                return None
        elif worded:
            finding.verdict = worded
        else:
            self.problem(line, f"the finding '{subject}' has no verdict: start it with ✅, ⚠️ or ❌")
            return None
        return finding

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
                        f"unknown blocker group '{plain_heading(heading.text)[1]}' "
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
                    self.problem(
                        line, f"'{label}' comes before any blocker: start with '- **Blocker title**: description'"
                    )
                else:
                    self._blocker_field(blocker, line, field_name, value)

    def _blocker_field(self, blocker: d.Blocker, line: int, field_name: str, value: str) -> None:
        if field_name == "severity":
            severity = value.strip().lower()
            if severity not in d.SEVERITIES:
                self.problem(line, f"unknown severity '{value}' (use primary or secondary)")
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
                    task = d.Task(title=title, detail=detail, done=bool(checked), icon=icon)
                    self.criteria.append((int(number.group(1)) if number else None, line, task))
                else:
                    step = d.NextStep(title=title, detail=detail, done=bool(checked), group=group, icon=icon)
                    self.doc.next_steps.append(step)

    # Cross-references, once every section is read ---------------------------------------------

    def _resolve_references(self) -> None:
        number = self.doc.current_phase
        if number is not None and self.doc.phase(number) is None and number not in self.rejected_phases:
            if self.doc.phases:
                self.problem(
                    self.current_phase_line, f"the current phase is Phase {number}, which the phase list does not have"
                )
            elif not self.current_phase_title:
                self.problem(self.current_phase_line, f"Phase {number} has no title")
            else:
                self.doc.phases.append(d.Phase(number=number, title=self.current_phase_title, status="in_progress"))
        for ref, line, title, blocks in self.details:
            phase = self.doc.phase(ref)
            if phase is None and ref in self.rejected_phases:
                continue
            if phase is None:
                self.problem(line, f"'{title}' is about Phase {ref}, which the phase list does not have")
            else:
                self._phase_detail_content(phase, title, blocks)
        for ref, line, task in self.criteria:
            ref = ref if ref is not None else self.doc.current_phase
            phase = self.doc.phase(ref) if ref is not None else None
            if phase is None and ref in self.rejected_phases:
                continue
            if phase is None:
                self.problem(
                    line,
                    "completion criteria need a listed phase: head them '### **Phase N Completion Criteria:**'",
                )
            else:
                phase.completion_criteria.append(task)
