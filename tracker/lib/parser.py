"""Parse a hand-written markdown progress tracker into a `TrackerDocument`.

The document family (see `shared/examples/operation-snail-trail.md`) is a title, an optional
motto quote, then `##` sections recognised by the words in their heading (OVERALL STATUS,
PHASE ... STATUS, PHASE N DETAILED PROGRESS, DECISIONS, BLOCKERS, ACHIEVEMENTS, WISDOM,
NEXT STEPS) in any order. A section the tracker does not know is kept verbatim as a note.

markdown-it-py does the tokenizing, so lists, quotes and headings are what CommonMark says they
are and every token carries its line; this module only interprets the blocks. Every problem is
collected with its line number and reported together, so one run shows everything to fix.

No input takes more than time and memory in proportion to its size, and bounded amounts of both
(issue #14): the budgets of `Limits` (bytes, lines, blocks, nesting) are checked by a linear
pre-scan before markdown-it runs, since markdown-it's tokens cost ~0.5 KB each and a 2 MB document
of `-` lines was a million of them; markdown-it itself is told not to go deeper than the nesting
budget; the grammar's own lookups are dictionaries and its patterns cannot backtrack
quadratically; and the problem list keeps the first `MAX_PROBLEMS` by line, then says how many
more there were. bench/hostile_import.py measures all of it.
"""

from __future__ import annotations

import gc
import heapq
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from markdown_it import MarkdownIt

from . import document as d
from .values import (
    canonical_word,
    plain_heading,
    quoted,
    read_date,
    read_datetime,
    read_duration,
    read_percent,
    split_checkbox,
    split_label,
    split_leading_icon,
    split_trailing_icons,
)


@dataclass(frozen=True)
class Limits:
    """How large a document may be. Each budget is a Django setting of the same meaning, declared
    with its default (and why that default) in config/settings/base.py; this module knows no Django,
    so `tracker.importers.limits()` reads the settings and passes them in. The defaults here are
    the settings' defaults, for callers without settings (the fuzz tests, the benchmark)."""

    max_bytes: int = 2 * 1024 * 1024  # TRACKER_MAX_DOCUMENT_BYTES
    max_lines: int = 20_000  # TRACKER_MAX_LINES
    max_blocks: int = 10_000  # TRACKER_MAX_BLOCKS
    max_nesting: int = 6  # TRACKER_MAX_NESTING


DEFAULT_LIMITS = Limits()
# A document with a million bad lines is told about the first few hundred, and how many more there are.
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class DocumentError(Exception):
    """The document cannot be imported; `problems` says where and why, one entry per problem.

    `problems` is at most `MAX_PROBLEMS` entries plus one saying how many more there were;
    `total` counts them all.
    """

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = sorted(problems, key=lambda p: p.line)
        self.total = max(total or 0, len(self.problems))
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in self.problems))

    def format(self, path: str) -> str:
        return "\n".join(f"{path}:{p.line}: {p.message}" for p in self.problems)


class _Problems:
    """The first `limit` problems by line, and how many there were in all.

    A bounded heap (the kept problem with the largest line on top) rather than a list sorted at the
    end: every line of a document can be wrong, and the answer must stay small.
    """

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.limit = limit
        self.total = 0
        self.first_left_out: int | None = None
        self._heap: list[tuple[int, int, str]] = []  # (-line, -order, message)

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        entry = (-line, -self.total, message)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
            return
        if entry > self._heap[0]:  # an earlier line than the latest kept one
            entry = heapq.heapreplace(self._heap, entry)
        self.first_left_out = min(-entry[0], self.first_left_out or -entry[0])

    def listed(self) -> list[Problem]:
        """The kept problems in line order (the order they were found within a line), then the count of the rest."""
        kept = [Problem(-line, message) for line, _order, message in sorted(self._heap, key=lambda e: (-e[0], -e[1]))]
        left_out = self.total - len(kept)
        if left_out:
            plural = "s" if left_out != 1 else ""
            more = f"and {left_out:,} more problem{plural} (only the first {len(kept)} are listed)"
            kept.append(Problem(self.first_left_out or kept[-1].line, more))
        return kept

    def error(self) -> DocumentError:
        return DocumentError(self.listed(), self.total)


def _over(what: str, count: int, limit: int, setting: str, unit: str = "") -> Problem:
    return Problem(1, f"the document {what} {count:,}{unit}; the limit is {limit:,} ({setting})")


def size_problem(size: int, limits: Limits = DEFAULT_LIMITS) -> Problem | None:
    """The problem of a document of `size` bytes if it is over the budget, else None. The page
    upload, the API and `import_tracker` ask before they read a document."""
    if size <= limits.max_bytes:
        return None
    return _over("is", size, limits.max_bytes, "TRACKER_MAX_DOCUMENT_BYTES", " bytes")


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    """Bytes of an uploaded or read file -> text, refusing what is not a UTF-8 text document.

    The size is checked first, before anything copies the bytes."""
    too_large = size_problem(len(data), limits)
    if too_large:
        raise DocumentError([too_large])
    if not data or data.isspace():  # (not data.strip(): a copy of two megabytes to learn one bit)
        raise DocumentError([Problem(1, "the document is empty")])
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DocumentError([Problem(line, "this is a binary file, not a markdown document (it has NUL bytes)")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DocumentError(
            [Problem(line, f"the document is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be read)")]
        ) from None
    return text.removeprefix("\ufeff")


# --- budgets, before any token is made ---------------------------------------------------------

# markdown-it's own line model: "\r\n" and "\r" end a line as "\n" does, and nothing else does
# (str.splitlines would also split at form feeds, U+2028 and others, and shift a note's lines).
_LINE_BREAK = re.compile(r"\r\n?")
# The first character of a line (after its indentation and quote marks) that may start a block
# other than a paragraph: lists, headings, fences, HTML. Counting these and the lines after a blank
# line overestimates the blocks a little (a paragraph line that starts with a digit), never by much.
_BLOCK_MARKS = frozenset("-+*#`~<0123456789")
# Each line's first character after its indentation and quote marks ('' on a blank line).
_LINE_LEAD = re.compile(r"^[ \t>]*+([^\n]?)", re.MULTILINE)
# One list or quote opened at the start of a line: `>`, `-`, `+`, `*`, `1.`, `1)`. Possessive and
# atomic, so a long line of them is read once, without backtracking.
_OPENER = r"[ \t]*+(?:>|[-+*](?=[ \t]|$)|[0-9]{1,9}+[.)](?=[ \t]|$))"
_ONE_OPENER = re.compile(rf"(?>{_OPENER})[ \t]*+")
_THEMATIC_BREAK = re.compile(r"[ \t]*+([-*_])(?:[ \t]*+\1){2,}+[ \t]*+$")


def _normalized(text: str) -> str:
    """What markdown-it's own first step makes of a text, without copying one that needs nothing:
    its pattern replaces every line break, so it always copies, and a document with an emoji is
    four bytes a character (8 MB for a 2 MB document). `_markdown` switches that step off."""
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    return text


@lru_cache(maxsize=8)
def _deep_line_start(limit: int) -> re.Pattern:
    """A line that opens more than `limit` lists or quotes at its start (`> > - 1. x`)."""
    return re.compile(rf"^(?>{_OPENER}){{{limit + 1}}}", re.MULTILINE)


def _line_depth(line: str, stop: int) -> int:
    """How many lists and quotes `line` opens at its start, counting no further than `stop`.

    A thematic break (`- - -`, `* * *`) is not a list: CommonMark reads it as a rule."""
    depth = position = 0
    while depth < stop:
        opener = _ONE_OPENER.match(line, position)
        if opener is None or _THEMATIC_BREAK.match(line, position):
            break
        depth += 1
        position = opener.end()
    return depth


def _check_budgets(text: str, limits: Limits) -> None:
    """Raise `DocumentError` naming the budget a document is over, before markdown-it runs.

    All of it is linear and allocates little: counting line breaks runs at C speed (and comes first,
    so a million lines are refused at once), the block count is one pass of a regular expression
    over the lines (one character each, not a list of lines: a document with an emoji is four bytes
    a character in memory), the nesting check a regular expression that cannot backtrack."""
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if count > limits.max_lines:
        raise DocumentError([_over("has", count, limits.max_lines, "TRACKER_MAX_LINES", " lines")])
    blocks, blank = 0, True
    for line in _LINE_LEAD.finditer(text):
        first = line.group(1)
        if not first:
            blank = True
            continue
        if blank or first in _BLOCK_MARKS:
            blocks += 1
        blank = False
    if blocks > limits.max_blocks:
        raise DocumentError(
            [
                _over(
                    "has about",
                    blocks,
                    limits.max_blocks,
                    "TRACKER_MAX_BLOCKS",
                    " blocks (headings, paragraphs, list items, quotes)",
                )
            ]
        )
    for candidate in _deep_line_start(limits.max_nesting).finditer(text):
        end = text.find("\n", candidate.start())
        line = text[candidate.start() : end if end >= 0 else len(text)]
        if _line_depth(line, limits.max_nesting + 1) > limits.max_nesting:
            raise DocumentError([_too_deep(text.count("\n", 0, candidate.start()) + 1, limits.max_nesting)])


def _too_deep(line: int, limit: int) -> Problem:
    return Problem(
        line, f"lists and quotes are nested more than {limit} deep here; the limit is {limit} (TRACKER_MAX_NESTING)"
    )


# --- blocks -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Item:
    line: int
    text: str = ""
    nested: bool = False  # a sub-list or a second paragraph: not part of this grammar


@dataclass(slots=True)
class Block:
    kind: str  # heading | paragraph | list | quote | rule | other
    line: int  # 1-based line of the block's first line
    end: int  # 1-based line after the block
    level: int = 0
    text: str = ""
    ordered: bool = False
    items: list[Item] = field(default_factory=list)


@lru_cache(maxsize=8)
def _markdown(max_nesting: int) -> MarkdownIt:
    """markdown-it for documents nested at most `max_nesting` lists and quotes deep.

    Only the block structure is needed: the grammar reads each inline token's raw source
    (`content`), so the inline pass, two thirds of markdown-it's time on a large document, is
    switched off, and so is the normalizing of line breaks, which `_normalized` has done. markdown-it
    stops descending at `maxNesting` levels (a list is two: the list and its item), so a deeper
    document costs what one at the limit does; one level past the budget is still read, for
    `_blocks` to report it with its line."""
    return MarkdownIt("commonmark", {"maxNesting": 2 * max_nesting + 2}).disable(["normalize", "inline", "text_join"])


_CONTAINER_STEP = {
    "blockquote_open": 1,
    "bullet_list_open": 1,
    "ordered_list_open": 1,
    "blockquote_close": -1,
    "bullet_list_close": -1,
    "ordered_list_close": -1,
}


def _blocks(text: str, max_nesting: int = DEFAULT_LIMITS.max_nesting) -> list[Block]:
    """The blocks of a `_normalized` text."""
    tokens = _markdown(max_nesting).parse(text)
    # Nesting across lines (indented sub-lists) is not seen by the pre-scan: checked on the tokens.
    depth = 0
    for token in tokens:
        step = _CONTAINER_STEP.get(token.type)
        if step:
            depth += step
            if depth > max_nesting:
                raise DocumentError([_too_deep(token.map[0] + 1, max_nesting)])
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


# --- '(expected: VALUE; NOTE)' --------------------------------------------------------------------

_EXPECTED_HEAD = re.compile(r"expected:?", re.IGNORECASE)
_BLANKS = re.compile(r"\s*")
_SEMICOLON_BLANK = re.compile(r";\s")


def split_expected(text: str) -> tuple[str, str | None] | None:
    r"""(value, note or None) of a finding's 'expected: VALUE; NOTE', or None when it is not one.

    What `^expected:?\s+(?P<value>.+?)(?:;\s+(?P<note>.*))?$` (IGNORECASE) matches, computed in
    one pass: that pattern backtracks quadratically on a long line (a run of blanks after
    'expected:', or many '; ' before a line break), and a note is as long as a line may be.
    tests/tracker/test_hostile_documents.py checks that the two agree.
    """
    head = _EXPECTED_HEAD.match(text)
    if head is None:
        return None
    after = _BLANKS.match(text, head.end()).end()
    blanks = text[head.end() : after]
    if not blanks:
        return None
    rest = text[after:]
    # `$` matches at the end or before a final line break; '.' never crosses a line break.
    body = rest[:-1] if rest.endswith("\n") else rest
    last_break = body.rfind("\n")
    first_break = rest.find("\n")
    value_end = first_break if first_break >= 0 else len(rest)  # the value stays on the first line

    def note_at(i: int) -> str | None:
        """The note if '; NOTE' starts at rest[i] and runs to the end on one line, else None."""
        if rest[i : i + 1] != ";":
            return None
        start = _BLANKS.match(rest, i + 1).end()
        if start == i + 1 or last_break >= start:
            return None
        return body[start:]

    def ends_at(i: int) -> bool:
        return i == len(rest) or (i == len(rest) - 1 and rest[i] == "\n")

    # The whole run of blanks after 'expected:', then the shortest value that lets the rest match:
    # up to the first '; ' when the note is on one line; else only a ';' whose blanks run past the
    # last line break can start the note.
    if last_break < 0:
        semicolon = _SEMICOLON_BLANK.search(rest, 1)
        i = semicolon.start() if semicolon else -1
    else:
        i = len(rest[:last_break].rstrip()) - 1
    if 1 <= i <= value_end:
        note = note_at(i)
        if note is not None:
            return rest[:i], note
    if value_end >= 1 and ends_at(value_end):
        return rest[:value_end], None
    # Else the pattern gives blanks back to the value: the last one before '; note' or the end, or
    # the one before a final line break.
    if len(blanks) >= 2 and blanks[-1] != "\n":
        if ends_at(0):
            return blanks[-1], None
        note = note_at(0)
        if note is not None:
            return blanks[-1], note
    elif len(blanks) >= 3 and rest == "" and blanks[-2] != "\n":
        return blanks[-2], None
    return None


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


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> d.TrackerDocument:
    """Parse a tracker document; raise `DocumentError` listing the problems found (the first
    `MAX_PROBLEMS` of them, and how many more), or naming the budget of `limits` it is over."""
    text = _normalized(text)
    _check_budgets(text, limits)
    with _collector_paused():
        return _Parser(text, limits).parse()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a document is parsed.

    markdown-it makes tens of thousands of tokens, and each pass of the collector that they set off
    walks every object of the process: a web worker with Django loaded has ~200,000, which made a
    document at the budgets parse in twice the time (bench/hostile_import.py). Nothing a parse makes
    is in a reference cycle (tests/tracker/test_hostile_documents.py checks), so reference counting
    frees all of it; and the budgets bound what is made meanwhile. A collector someone else switched
    off stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Parser:
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
