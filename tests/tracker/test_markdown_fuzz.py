"""Whatever text arrives, the parser either reads it or says what is wrong: never a traceback.

Documents are built by shuffling, dropping, duplicating and mangling the lines of the example,
plus arbitrary text, so the fuzzing spends its time near the grammar rather than on noise.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE
from tracker.lib.parser import DocumentError, decode, parse
from tracker.lib.renderer import render

LINES = EXAMPLE.read_text().splitlines()
FRAGMENTS = [
    "### **Phase 9:**",
    "### **Phase x: Nope** ✅",
    "### **Phase 5: Later** ⏳",
    "- **Status**: 140% Complete",
    "- **Duration**: [NOT STARTED]",
    "- **Duration**: 1 day 4 hours",
    "- [x] **Done**: yes",
    "- ⚠️ **Half**: `x` (expected: y)",
    "### **Secondary Blockers:**",
    "- **Resolved**: February 30, 2025",
    "  - nested",
    "```",
    "| a | b |",
    "<div>html</div>",
    "# Another title",
    "**Current Phase**: Phase 12 - Ghost",
    "> quote",
    "",
]

mangled_line = st.one_of(
    st.sampled_from(LINES),
    st.sampled_from(FRAGMENTS),
    st.text(max_size=40),
    st.sampled_from(LINES).map(lambda line: line.replace("**", "")),
    st.sampled_from(LINES).map(lambda line: line[: len(line) // 2]),
)


def check(text: str) -> None:
    try:
        doc = parse(text)
    except DocumentError as error:
        assert error.problems, "an error must say what is wrong"
        assert all(problem.line >= 1 for problem in error.problems)
        return
    # What is accepted renders, and reads back to itself.
    assert parse(render(doc)) == doc


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mangled_line, max_size=60))
def test_it_never_crashes_on_mangled_trackers(lines: list[str]):
    check("\n".join(lines))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_it_never_crashes_on_arbitrary_bytes(data: bytes):
    try:
        text = decode(data)
    except DocumentError:
        return
    check(text)
