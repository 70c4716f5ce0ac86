"""No tracker document takes the service down (issue #14): each hostile shape is refused early with
a problem naming the budget and its setting, or parsed with a bounded list of problems, and never
raises anything but the parser's own error, through the parser, the API, the page and the command.

No timing assertions (the machine is shared and noisy): bench/hostile_import.py measures the
seconds and the memory. What these tests pin down is what bounds them: which budget refuses which
shape, before markdown-it runs, and how many problems come back.
"""

from __future__ import annotations

import gc
import io
import re
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.conftest import EXAMPLE, logged_in
from tracker.importers import ImportFailed, read_document
from tracker.lib import parser
from tracker.lib.parser import MAX_PROBLEMS, DocumentError, Limits, decode, parse, split_expected
from tracker.lib.renderer import render
from tracker.models import Operation, Task

TEXT = EXAMPLE.read_text(encoding="utf-8")
# The title, the motto and the OVERALL STATUS section: a valid tracker on its own.
HEADER = TEXT.split("## 📊")[0]
OVERALL = HEADER.split("## 🎯")[0] + "## 🎯 **OVERALL STATUS**\n\n**Operation Snail Trail**: IN PROGRESS 🚀\n"
LIMITS = Limits()


def lines_of(text: str) -> int:
    """Lines as markdown-it counts them: '\\r\\n', '\\r' and '\\n' end one."""
    text = re.sub(r"\r\n?", "\n", text)
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def with_note(body: str) -> str:
    """The example with a section the tracker does not know, kept verbatim, before its WISDOM."""
    wisdom = "## 🐌 **SNAIL TRAIL WISDOM"
    return TEXT.replace(wisdom, f"## 📝 **RUNBOOK**\n\n{body}\n\n---\n\n{wisdom}")


# The shapes, about 2 MB each, and the one problem each must be refused with.
DASHES = HEADER + "-\n" * 1_000_000  # the 61-second import of issue #14
SHAPES: dict[str, tuple[str, str]] = {
    "a million '-' lines": (
        DASHES,
        f"the document has {lines_of(DASHES):,} lines; the limit is 20,000 (TRACKER_MAX_LINES)",
    ),
    "blank lines": (
        HEADER + "\n" * 1_900_000,
        f"the document has {lines_of(HEADER + chr(10) * 1_900_000):,} lines; the limit is 20,000 (TRACKER_MAX_LINES)",
    ),
    "thousands of headings": (
        HEADER + "".join(f"## Heading {i}\n" for i in range(15_000)),
        "the limit is 10,000 (TRACKER_MAX_BLOCKS)",
    ),
    "thousands of problems": (
        HEADER
        + "## 📊 **PHASE COMPLETION STATUS**\n\n"
        + "".join(f"### **Phase {i}: Step** ✅\n- **Status**: 140% Complete\n" for i in range(1, 8_000)),
        "the limit is 10,000 (TRACKER_MAX_BLOCKS)",
    ),
    "lists nested on one line": (
        HEADER + "- " * 1_000_000 + "x\n",
        "lists and quotes are nested more than 6 deep here; the limit is 6 (TRACKER_MAX_NESTING)",
    ),
    "quotes nested on one line": (
        HEADER + "> " * 1_000_000 + "x\n",
        "lists and quotes are nested more than 6 deep here; the limit is 6 (TRACKER_MAX_NESTING)",
    ),
    "deeply indented lists": (
        HEADER + "## 🚀 **NEXT STEPS**\n\n" + "".join("  " * depth + "- step\n" for depth in range(1000)),
        "lists and quotes are nested more than 6 deep here; the limit is 6 (TRACKER_MAX_NESTING)",
    ),
    "every line a problem": (
        OVERALL + "".join(f"line {i} is not a label\n" for i in range(60_000)),
        "the limit is 20,000 (TRACKER_MAX_LINES)",
    ),
}


def refused(text: str, limits: Limits = LIMITS) -> DocumentError:
    with pytest.raises(DocumentError) as error:
        parse(decode(text.encode(), limits), limits)
    return error.value


# --- the parser -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_is_refused_with_one_problem_naming_the_budget(shape):
    text, message = SHAPES[shape]

    error = refused(text)

    assert len(error.problems) == error.total == 1
    assert message in error.problems[0].message


def test_the_budgets_are_checked_before_markdown_it_runs(monkeypatch):
    def no_markdown(_max_nesting):
        raise AssertionError("markdown-it ran on a document over a budget")

    monkeypatch.setattr(parser.blocks, "_markdown", no_markdown)

    for shape in ("a million '-' lines", "blank lines", "thousands of headings", "lists nested on one line"):
        assert refused(SHAPES[shape][0]).total == 1


def test_nesting_across_lines_is_refused_at_the_line_that_goes_one_level_too_deep():
    nested = "".join("  " * depth + f"- level {depth + 1}\n" for depth in range(7))
    text = HEADER + "## 📝 **RUNBOOK**\n\n" + nested
    seventh = lines_of(HEADER + "## 📝 **RUNBOOK**\n\n") + 7

    error = refused(text)

    assert [(p.line, p.message) for p in error.problems] == [
        (seventh, "lists and quotes are nested more than 6 deep here; the limit is 6 (TRACKER_MAX_NESTING)")
    ]


def test_lists_nested_to_the_budget_in_a_note_import_as_they_are():
    nested = "".join("  " * depth + f"- level {depth + 1}\n" for depth in range(6)) + "> > > > > > a quote\n"
    text = with_note(nested.rstrip("\n"))

    doc = parse(text)

    assert doc.notes[0].body == nested.rstrip("\n")
    assert render(doc) == text


def test_a_long_thematic_break_is_a_rule_not_a_deep_list():
    text = OVERALL + "\n" + "- " * 50 + "-\n\n" + "* " * 50 + "*\n"

    assert parse(text).name == "Operation Snail Trail"


def test_the_size_budget_is_checked_on_the_bytes():
    data = (TEXT + "\n" * 10).encode()

    with pytest.raises(DocumentError) as error:
        decode(data, Limits(max_bytes=len(data) - 1))

    assert error.value.problems[0].message == (
        f"the document is {len(data):,} bytes; the limit is {len(data) - 1:,} (TRACKER_MAX_DOCUMENT_BYTES)"
    )


def test_thousands_of_problems_come_back_as_the_first_200_and_a_count_of_the_rest():
    phases = "".join(f"### **Phase {i}: Step** ✅\n- **Status**: 140% Complete\n" for i in range(1, 3_001))
    text = HEADER + "## 📊 **PHASE COMPLETION STATUS**\n\n" + phases

    error = refused(text)

    listed, summary = error.problems[:-1], error.problems[-1]
    assert error.total == 3_000  # each phase's 140%
    assert len(listed) == MAX_PROBLEMS
    assert [p.line for p in listed] == sorted(p.line for p in listed)
    assert listed[0].message == "progress must be between 0% and 100%, got 140%"
    assert summary.message == f"and {error.total - MAX_PROBLEMS:,} more problems (only the first 200 are listed)"
    assert summary.line >= listed[-1].line
    assert str(error).count("line ") == MAX_PROBLEMS + 1  # the message is bounded too


def test_every_line_a_problem_within_the_budgets_is_bounded_too():
    text = OVERALL + "".join(f"line {i} is not a label\n" for i in range(15_000))

    error = refused(text)

    assert error.total == 15_000
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert error.problems[0].message == "expected '**Label**: value' in OVERALL STATUS, got 'line 0 is not a label'"


def test_a_problem_quotes_at_most_80_characters_of_a_huge_line():
    text = OVERALL + "**Start Date**: " + "x" * 1_000_000 + "\n"

    (problem,) = refused(text).problems

    assert problem.message.startswith("cannot read the date 'xxx")
    assert len(problem.message) < 200 and "x…'" in problem.message


@pytest.mark.parametrize(
    "written",
    [
        "9" * 5_000,  # int() refuses more than 4,300 digits
        "²",  # a digit to str.isdigit, not to int()
    ],
)
def test_a_phase_number_int_cannot_read_is_a_problem_not_a_crash(written):
    phases = f"## 📊 **PHASE COMPLETION STATUS**\n\n### **Phase {written}: Big** ✅\n- **Status**: 100% Complete\n"
    detail = f"## 🚀 **PHASE {written} DETAILED PROGRESS**\n\n### **Completed Tasks:**\n- **Done**: yes\n"
    criteria = f"## 🚀 **NEXT STEPS**\n\n### **Phase {written} Completion Criteria:**\n- [ ] **Signed off**\n"
    current = HEADER.replace("Phase 4 - Enhanced", f"Phase {written} - Enhanced")

    for text in (HEADER + phases, HEADER + phases + detail, HEADER + criteria, current):
        try:
            parse(text)  # '²' is no number to `\\d` either: a criteria heading without one is the current phase's
        except DocumentError as error:
            assert error.problems
    assert "phase numbers go up to 10000" in refused(HEADER + phases).problems[0].message or written == "²"


def test_a_current_phase_past_the_largest_phase_number_is_a_problem():
    """It would make a phase no heading can (and ten digits were more than PostgreSQL's integer)."""
    text = HEADER.replace("Phase 4 - Enhanced", "Phase 9999999999 - Enhanced")

    assert [p.message for p in refused(text).problems] == ["Phase 9999999999: phase numbers go up to 10000"]


@pytest.mark.parametrize(
    "value",
    [
        "`x` (expected:" + " " * 200_000 + "y\nz)",  # took 11.6 s at 20,000 blanks
        "`x` (expected: y" + "; " * 200_000 + "\nz)",
        "`x`" + " " * 200_000 + "(correct) x",
        "`x` (" + "expected: " * 50_000 + ")",
    ],
)
def test_findings_that_made_patterns_backtrack_quadratically_parse(value):
    findings = f"## 🚀 **PHASE 4 DETAILED PROGRESS**\n\n### **Investigation Results:**\n- ✅ **Check**: {value}\n"
    text = TEXT.replace("## 🚀 **PHASE 4 DETAILED PROGRESS**", findings + "\n---\n\n## 🚀 **PHASE 5 OLD**", 1)

    try:
        parse(text)
    except DocumentError as error:
        assert len(error.problems) <= MAX_PROBLEMS + 1


def test_a_duration_of_a_million_digits_is_a_problem():
    text = HEADER.replace("---\n", "---\n\n## 📊 **PHASE COMPLETION STATUS**\n\n### **Phase 4: Big** 🚧\n", 1) + (
        "- **Duration**: " + "1" * 1_000_000 + "\n"
    )

    assert "cannot read the duration '1111" in refused(text).problems[0].message


def test_a_note_keeps_lines_that_str_splitlines_would_have_split():
    """Form feeds and U+2028 end no line for markdown-it; a note used to lose its end there."""
    note = "step one\u2028still step one\x0cand this\n\nstep two"
    text = with_note(note)

    doc = parse(text)

    assert doc.notes[0].body == note
    assert render(doc) == text


def test_carriage_returns_end_lines_for_the_budget_as_for_markdown_it():
    text = HEADER + "-\r" * 30_000

    assert "the limit is 20,000 (TRACKER_MAX_LINES)" in refused(text).problems[0].message


def test_a_parse_leaves_no_reference_cycle_behind_for_the_paused_collector():
    """parse() turns the cycle collector off while it runs; that is safe only if reference counting
    frees everything it made."""
    documents = [TEXT, *(text for text, _ in SHAPES.values())]
    documents += [OVERALL + "".join(f"line {i} is not a label\n" for i in range(3_000)), with_note("- a\n  - b")]
    gc.collect()
    gc.disable()
    try:
        for text in documents:
            try:
                parse(text)
            except DocumentError:
                pass
            assert gc.collect() == 0
    finally:
        gc.enable()


def test_the_collector_is_on_again_after_a_parse_and_off_if_it_was():
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with pytest.raises(DocumentError):  # raised by the grammar, while the collector is paused
                parse(TEXT.replace("90% Complete", "140% Complete"))
            parse(TEXT)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


# --- properties -------------------------------------------------------------------------------------

OLD_EXPECTED = re.compile(r"^expected:?\s+(?P<value>.+?)(?:;\s+(?P<note>.*))?$", re.IGNORECASE)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(
    st.lists(
        st.sampled_from(["expected", "EXPECTED", "expected:", ":", ";", "; ", " ", "  ", "\n", "\t", "a", "\x1c"]),
        max_size=12,
    )
)
def test_split_expected_reads_what_the_old_pattern_read(parts):
    text = "".join(parts)
    old = OLD_EXPECTED.match(text)

    assert split_expected(text) == ((old.group("value"), old.group("note")) if old else None)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(1, 50), st.text(max_size=3)), max_size=60), st.integers(1, 10))
def test_the_problem_list_is_the_first_problems_by_line_and_a_count(found, limit):
    problems = parser._Problems(limit)
    for line, message in found:
        problems.add(line, message)

    listed = problems.listed()

    in_order = sorted(found, key=lambda problem: problem[0])  # stable: a line's problems as found
    assert [(p.line, p.message) for p in listed[:limit]] == in_order[:limit]
    if len(found) > limit:
        assert listed[-1].message.startswith(f"and {len(found) - limit:,} more problem")
        assert listed[-1].line == in_order[limit][0]
    else:
        assert len(listed) == len(found)


HOSTILE_LINES = [
    "",
    "-",
    "- - - - - - - - - -",
    "> > > > > > > > quote",
    "1. 2. 3. 4. 5. 6. 7. 8. x",
    "        - indented",
    "\t\t\t- tabbed",
    "### **Phase 99999999999999: x** ✅",
    "### **Phase ²: x**",
    "- **Status**: 1" + "0" * 5000 + "%",
    "- **Duration**: " + "9" * 5000,
    "- ✅ **Check**: `x` (expected:" + " " * 500 + "y",
    "```",
    "<div>",
    "# Another title",
    "## 📝 **A NOTE**",
    "## 🚀 **NEXT STEPS**",
    "## 📊 **PHASE COMPLETION STATUS**",
    "### **Phase 1: One** ✅",
    "x" * 3000,
    " " * 3000 + "x",
    "[a]: <b>",
    "\u2028\x0c\r",
    "🐌" * 100,
]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(HOSTILE_LINES), st.text(max_size=30)), max_size=80),
    st.sampled_from([LIMITS, Limits(max_lines=40, max_blocks=25, max_nesting=2)]),
)
def test_any_line_soup_is_read_or_refused_with_a_bounded_list_of_problems(lines, limits):
    text = HEADER + "\n".join(lines)
    try:
        parse(text, limits)
    except DocumentError as error:
        assert 1 <= len(error.problems) <= MAX_PROBLEMS + 1
        assert error.total >= len(error.problems)
        assert all(1 <= p.line <= lines_of(text) + 1 for p in error.problems)
        assert all(len(p.message) < 400 for p in error.problems)


# --- the settings, through the importer -------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("TRACKER_MAX_LINES", 100, "lines; the limit is 100 (TRACKER_MAX_LINES)"),
        ("TRACKER_MAX_BLOCKS", 50, "the limit is 50 (TRACKER_MAX_BLOCKS)"),
        ("TRACKER_MAX_NESTING", 0, "the limit is 0 (TRACKER_MAX_NESTING)"),
        ("TRACKER_MAX_DOCUMENT_BYTES", 1000, "bytes; the limit is 1,000 (TRACKER_MAX_DOCUMENT_BYTES)"),
    ],
)
def test_each_budget_is_the_setting_of_its_name(settings, setting, value, message):
    setattr(settings, setting, value)

    with pytest.raises(ImportFailed) as failure:
        read_document(EXAMPLE.read_bytes())

    assert message in failure.value.problems[0].message


# --- the API ----------------------------------------------------------------------------------------


@pytest.fixture
def api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_markdown(api: APIClient, data: bytes):
    return api.post("/api/operations/import/", data, content_type="text/markdown")


@pytest.mark.django_db
@pytest.mark.parametrize("shape", SHAPES)
def test_the_api_answers_each_shape_with_a_400_naming_the_budget_and_writes_nothing(api, shape):
    text, message = SHAPES[shape]

    response = post_markdown(api, text.encode())

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "The document does not import: 1 problem."
    assert len(body["problems"]) == 1 and message in body["problems"][0]["message"]
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_api_lists_200_problems_and_counts_the_rest(api):
    phases = "".join(f"### **Phase {i}: Step** ✅\n- **Status**: 140% Complete\n" for i in range(1, 3_001))

    response = post_markdown(api, (HEADER + "## 📊 **PHASE COMPLETION STATUS**\n\n" + phases).encode())

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "The document does not import: 3,000 problems."
    assert len(body["problems"]) == MAX_PROBLEMS + 1
    assert body["problems"][-1]["message"] == "and 2,800 more problems (only the first 200 are listed)"
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_a_body_over_the_document_limit_is_a_413_before_it_is_read(api, settings):
    settings.TRACKER_MAX_DOCUMENT_BYTES = 4000

    response = post_markdown(api, EXAMPLE.read_bytes())

    assert response.status_code == 413
    size = len(EXAMPLE.read_bytes())
    assert response.json() == {
        "error": f"The body is {size:,} bytes; a tracker document may be 4,000 bytes (TRACKER_MAX_DOCUMENT_BYTES)."
    }
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_import_route_takes_a_document_of_the_document_limit_not_the_api_body_limit(api, settings):
    settings.API_MAX_BODY_BYTES = 1000  # every other API route refuses this body

    response = post_markdown(api, EXAMPLE.read_bytes())

    assert response.status_code == 201


@pytest.mark.django_db
def test_an_uploaded_file_over_the_limit_is_a_413_naming_it(api, settings):
    data = EXAMPLE.read_bytes()
    settings.TRACKER_MAX_DOCUMENT_BYTES = len(data) - 1  # the multipart envelope is allowed for
    upload = SimpleUploadedFile("tracker.md", data, content_type="text/markdown")

    response = api.post("/api/operations/import/", {"document": upload}, format="multipart")

    assert response.status_code == 413
    message = f"the document is {len(data):,} bytes; the limit is {len(data) - 1:,} (TRACKER_MAX_DOCUMENT_BYTES)"
    assert response.json() == {"error": f"T{message[1:]}.", "problems": [{"line": 1, "message": message}]}
    assert not Operation.objects.exists()


# --- the page ---------------------------------------------------------------------------------------


def upload(client, content: bytes):
    document = SimpleUploadedFile("hostile.md", content, content_type="text/markdown")
    return client.post(reverse("tracker:import"), {"document": document})


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["a million '-' lines", "thousands of headings", "lists nested on one line"])
def test_the_page_shows_the_budget_a_shape_is_over_and_writes_nothing(client, owner, shape):
    text, message = SHAPES[shape]

    response = upload(logged_in(client, owner), text.encode())

    assert response.status_code == 400
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_page_lists_200_problems_and_counts_the_rest(client, owner):
    phases = "".join(f"### **Phase {i}: Step** ✅\n- **Status**: 140% Complete\n" for i in range(1, 3_001))

    response = upload(logged_in(client, owner), (HEADER + "## 📊 **PHASE COMPLETION STATUS**\n\n" + phases).encode())

    page = response.content.decode()
    assert response.status_code == 400
    assert page.count("<li><code>hostile.md:") == MAX_PROBLEMS + 1
    assert "and 2,800 more problems (only the first 200 are listed)" in page
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_page_refuses_a_document_over_the_limit_with_a_form_error_naming_it(client, owner, settings):
    settings.TRACKER_MAX_DOCUMENT_BYTES = 4000
    data = EXAMPLE.read_bytes()

    response = upload(logged_in(client, owner), data)

    assert response.status_code == 413
    assert f"The document is {len(data):,} bytes; the limit is 4,000 (TRACKER_MAX_DOCUMENT_BYTES)." in (
        response.content.decode()
    )
    assert not Operation.objects.exists() and not Task.objects.exists()


# --- the command ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_refuses_a_file_over_the_limit_without_reading_it(tmp_path, settings, workspace):
    settings.TRACKER_MAX_DOCUMENT_BYTES = 4000
    path = tmp_path / "big.md"
    path.write_bytes(EXAMPLE.read_bytes())
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_tracker", str(path), stderr=err)

    size = len(EXAMPLE.read_bytes())
    assert err.getvalue().strip() == (
        f"{path}:1: the document is {size:,} bytes; the limit is 4,000 (TRACKER_MAX_DOCUMENT_BYTES)"
    )
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_command_reads_standard_input_no_further_than_the_limit(monkeypatch, settings, workspace):
    settings.TRACKER_MAX_DOCUMENT_BYTES = 4000
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXAMPLE.read_bytes())))
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_tracker", "-", stderr=err)

    assert "-:1: the document is more than 4,000 bytes; the limit is 4,000 (TRACKER_MAX_DOCUMENT_BYTES)" in (
        err.getvalue()
    )
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_the_command_counts_every_problem_and_lists_the_first_200(tmp_path, workspace):
    phases = "".join(f"### **Phase {i}: Step** ✅\n- **Status**: 140% Complete\n" for i in range(1, 3_001))
    path = tmp_path / "many.md"
    path.write_text(HEADER + "## 📊 **PHASE COMPLETION STATUS**\n\n" + phases, encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"nothing was imported \(3,000 problem\(s\)\)"):
        call_command("import_tracker", str(path), stderr=err)

    assert len(err.getvalue().strip().splitlines()) == MAX_PROBLEMS + 1
