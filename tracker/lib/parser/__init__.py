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

The package's modules, each importing only those above it: `problems` (Limits, Problem,
DocumentError, decode), `budgets` (the pre-scan), `blocks` (markdown-it's tokens as blocks),
`expected` ('(expected: VALUE; NOTE)'), `reader` (sections and the helpers they share), then
`phases` and `lists` (each section's reading); `parse` here puts them together.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from .. import document as d
from .budgets import _check_budgets, _normalized
from .expected import split_expected
from .lists import _ListSections
from .phases import _PhaseSections
from .problems import DEFAULT_LIMITS, MAX_PROBLEMS, DocumentError, Limits, Problem, _Problems, decode, size_problem

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_PROBLEMS",
    "DocumentError",
    "Limits",
    "Problem",
    "_Problems",
    "decode",
    "parse",
    "size_problem",
    "split_expected",
]


class _Parser(_PhaseSections, _ListSections):
    """One document's reading: the sections of `_Reader`, read by `_PhaseSections` and `_ListSections`."""


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
