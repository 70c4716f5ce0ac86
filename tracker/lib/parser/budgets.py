"""The budgets of `Limits` checked by a linear pre-scan, before markdown-it makes a single token."""

from __future__ import annotations

import re
from functools import lru_cache

from .problems import DocumentError, Limits, Problem, _over

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
