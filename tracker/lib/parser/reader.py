"""The reading of a document: its sections, and the helpers every section's reading shares. The
sections themselves are read in `phases` and `lists`; `_Parser` in the package puts them together."""

from __future__ import annotations

import re
from functools import cached_property

from .. import document as d
from ..values import (
    canonical_word,
    plain_heading,
    quoted,
    split_checkbox,
    split_label,
    split_leading_icon,
)
from .blocks import Block, Item, _blocks
from .problems import DocumentError, Limits, Problem, _Problems

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


def _phase_number(digits: str) -> int:
    """Decimal digits as a phase number. One too long to be a phase reads as one past the largest:
    int() refuses more than 4,300 digits with a ValueError, and a heading may have a million."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= 9 else d.MAX_PHASE_NUMBER + 1


def _status_word(text: str) -> str | None:
    return d.OPERATION_STATUSES.get(canonical_word(text))


class _Reader:
    """A document's blocks, the problems found in them, and what is read so far."""

    def __init__(self, text: str, limits: Limits):
        self.text = text
        self.blocks = _blocks(text, limits.max_nesting)
        self.problems = _Problems()
        self.doc = d.TrackerDocument(name="")
        # The phases of `doc.phases` by number: `doc.phase(n)` is a scan, and a document may list thousands.
        self.phases: dict[int, d.Phase] = {}
        self.title_name = ""
        self.current_phase_title = ""
        self.current_phase_line = 0
        # phase number -> (line, contents) for details that may come before the phase list
        self.details: list[tuple[int, int, str, list]] = []
        self.criteria: list[tuple[int | None, int, d.Task]] = []
        # Phases whose heading was refused: references to them are not reported a second time.
        self.rejected_phases: set[int] = set()

    @cached_property
    def lines(self) -> list[str]:
        """The document's lines, for the notes kept verbatim: made only for a document that has one,
        once markdown-it's tokens are gone."""
        return self.text.split("\n")

    def problem(self, line: int, message: str) -> None:
        self.problems.add(line, message)

    def _add_phase(self, phase: d.Phase) -> None:
        self.doc.phases.append(phase)
        self.phases[phase.number] = phase

    # The whole document ------------------------------------------------------------------------

    def parse(self) -> d.TrackerDocument:
        if not any(b.kind != "other" or b.text for b in self.blocks) or not self.text or self.text.isspace():
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
            self.problem(1, f"the operation name '{quoted(self.doc.name)}' needs letters or digits and no '*'")
        elif not self.doc.name:
            self.problem(
                1,
                "the document names no operation: start with a title like '# 🐌 **OPERATION NAME: PROGRESS TRACKER**'",
            )
        if self.problems:
            raise self.problems.error()
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
        written = split_leading_icon(heading.text.strip())[1].strip()
        bold = written.startswith("**") and written.endswith("**") and len(written) > 4  # as plain_heading reads it
        section = d.Section(key=key, emoji=emoji, title=title, bold=bold)
        if blocks and blocks[-1].kind == "rule":
            section.rule_after = True
        content = [b for b in blocks if b.kind != "rule"]
        if key == "phase_detail":
            section.ref = _phase_number(_PHASE_NUMBER_IN.search(canonical_word(title)).group(1))
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
            self.problem(line, f"expected '**Label**: value' in {where}, got '{quoted(text.strip())}'")
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
