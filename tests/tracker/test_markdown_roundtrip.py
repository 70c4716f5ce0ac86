"""Specs for the markdown round trip: what the parser reads, the renderer writes back unchanged.

The contract: for any document `parse` accepts, `parse(render(parse(text))) == parse(text)`, and
the canonical example comes back byte for byte, and so do the documents of `exact/` (issue #15):
ticked items left under Pending Tasks, items written with or without their list's usual mark,
sections in any order, sections the tracker does not know, headings not in bold. The property
test builds random *valid* documents and checks `parse(render(doc)) == normalize(doc)`.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE
from tracker.lib import document as d
from tracker.lib.document import normalize, to_primitive
from tracker.lib.parser import parse
from tracker.lib.renderer import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
FAMILY = sorted(FIXTURES.glob("*.md"))
# Documents written the trackers' way in everything but what each is about: they come back byte for byte.
EXACT = sorted((FIXTURES / "exact").glob("*.md"))


def test_it_renders_the_example_back_byte_for_byte() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    assert render(parse(text)) == text


def test_it_has_a_family_of_documents_to_round_trip() -> None:
    assert 6 <= len(FAMILY) <= 10
    assert len(EXACT) >= 3


@pytest.mark.parametrize("path", EXACT, ids=lambda p: p.stem)
def test_it_renders_every_exact_document_back_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert render(parse(text)) == text


def test_a_ticked_item_under_pending_tasks_stays_there_as_written() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("- [ ] **AWS Account Check**", "- [x] **AWS Account Check**")

    rendered = render(parse(text))

    assert rendered == text
    pending = rendered[rendered.index("### **Pending Tasks:**") :]
    assert "- [x] **AWS Account Check**: Verify account-level restrictions" in pending
    assert "✅ **AWS Account Check**" not in rendered


def test_a_task_ticked_or_unticked_later_keeps_its_place() -> None:
    doc = parse(EXAMPLE.read_text(encoding="utf-8"))
    pending = next(t for t in doc.phase(4).tasks if t.title == "AWS Account Check")
    completed = next(t for t in doc.phase(4).tasks if t.title == "ECR Deployment")

    pending.done, completed.done = True, False
    rendered = render(doc)

    assert "- [x] **AWS Account Check**" in rendered[rendered.index("### **Pending Tasks:**") :]
    assert "- [ ] **ECR Deployment**" in rendered[rendered.index("### **Pending Tasks:**") :]
    completed.done = True
    assert "- ✅ **ECR Deployment**" in render(doc)[: render(doc).index("### **Pending Tasks:**")]


@pytest.mark.parametrize("path", FAMILY, ids=lambda p: p.stem)
def test_it_reads_back_what_it_renders_for_every_family_document(path: Path) -> None:
    parsed = parse(path.read_text(encoding="utf-8"))

    assert to_primitive(parse(render(parsed))) == to_primitive(parsed)


@pytest.mark.parametrize("path", FAMILY, ids=lambda p: p.stem)
def test_it_renders_every_family_document_the_same_way_twice(path: Path) -> None:
    once = render(parse(path.read_text(encoding="utf-8")))

    assert render(parse(once)) == once


def test_it_renders_a_document_it_reads_to_the_same_document() -> None:
    parsed = parse(EXAMPLE.read_text(encoding="utf-8"))

    assert parse(render(parsed)) == parsed


# --- random valid documents ------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Plain words with a little punctuation, some that mean something elsewhere in the grammar
# (status words, units, "Phase", verdicts, Python-ish constants), and code spans, which may hold ':'.
_VOCABULARY = (
    "Deploy service cache model network subnet VPC DNS ECS S3 container health check logs metrics "
    "alerting rollout Phase phase 1 2 12 5000 v2.1 IN PROGRESS complete done Complete correct wrong warning "
    "hours 45 min 2h 30m August 11, 2025 - failed, ready. TODO None null true Infinity x Y z"
).split()
_CODE = ("`MapPublicIpOnLaunch: True`", "`assignPublicIp: ENABLED`", "`x=1`", "`port 5000`", "`a-b_c.d`")


def _random_word(rng: random.Random) -> str:
    return "".join(rng.choice(_LETTERS + "0123456789") for _ in range(rng.randint(1, 8)))


def _sentence(rng: random.Random, max_words: int, *, code: bool) -> str:
    """Words from a safe alphabet, maybe with code spans; starts with a letter, ends without a dash."""
    words = [rng.choice([w for w in _VOCABULARY if w[0] in _LETTERS] + [rng.choice(_LETTERS) + _random_word(rng)])]
    for _ in range(rng.randint(0, max_words - 1)):
        kind = rng.random()
        words.append(
            rng.choice(_CODE) if code and kind < 0.15 else _random_word(rng) if kind < 0.4 else rng.choice(_VOCABULARY)
        )
    return " ".join(words).removesuffix(" -")


def _text(max_words: int, *, code: bool = True) -> st.SearchStrategy[str]:
    """One draw picks a whole text, shortest first, so a document costs few draws and shrinks to short text.

    Drawing word by word made a document cost hundreds of draws and the suite too slow to run often.
    """
    rng = random.Random(f"{max_words}-{code}")
    pool = {_sentence(rng, max_words, code=code) for _ in range(3000)}
    return st.sampled_from(sorted(pool, key=lambda text: (len(text), text)))


_TITLE = _text(5, code=False)
_SHORT = _text(4)
_DETAIL = st.one_of(st.just(""), _text(6))
_GROUP = st.one_of(st.just(""), _text(4, code=False))
_ICON = st.sampled_from(["🏗️", "📦", "📊", "☁️", "🔒", "✅", "🔧", "🧪", "🦊", "⚠️", "👍🏽", "🇪🇺", "1️⃣", "#️⃣"])
_MAYBE_ICON = st.one_of(st.just(""), _ICON)
_DATETIME = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda value: value.replace(microsecond=0))
_MAYBE_DATETIME = st.one_of(st.none(), _DATETIME)
_PERCENT = st.one_of(st.none(), st.integers(0, 100))
_PARAGRAPH = st.lists(_text(8), min_size=1, max_size=2).map("\n".join)
_PARAGRAPHS = st.lists(_PARAGRAPH, min_size=1, max_size=3).map("\n\n".join)
_QUOTE = st.one_of(_PARAGRAPHS, _text(10).map(lambda quote: f'*"{quote}"*'))


def _fields(labels: tuple[str, ...]) -> st.SearchStrategy[list[list[str]]]:
    """Extra '**Label**: value' lines, with labels the grammar does not know."""
    return st.lists(st.tuples(st.sampled_from(labels), _SHORT).map(list), unique_by=lambda f: f[0], max_size=2)


_WRITTEN_AS = st.sampled_from(sorted(d.WRITTEN_AS))
_TASK = st.builds(d.Task, title=_TITLE, detail=_DETAIL, done=st.booleans(), icon=_MAYBE_ICON, written_as=_WRITTEN_AS)
_CRITERION = st.builds(
    d.Task, title=_TITLE, detail=_DETAIL, done=st.booleans(), icon=_MAYBE_ICON, written_as=_WRITTEN_AS
)
_CHALLENGE = st.builds(d.Challenge, title=_TITLE, detail=_DETAIL, icon=st.one_of(st.just("🔍"), _MAYBE_ICON))
_VERDICT = st.sampled_from(d.VERDICTS)
_FINDING = st.one_of(
    st.builds(d.Finding, subject=_TITLE, observed=_DETAIL, verdict=_VERDICT),
    # An observed value that ends in its own bracket is not a note.
    st.builds(d.Finding, subject=_TITLE, observed=_SHORT.map(lambda text: f"{text} (eu-west-1)"), verdict=_VERDICT),
    st.builds(d.Finding, subject=_TITLE, observed=_DETAIL, verdict=_VERDICT, expected=_SHORT),
    st.builds(
        d.Finding,
        subject=_TITLE,
        observed=_DETAIL,
        verdict=_VERDICT,
        expected=_SHORT,
        note=_SHORT.filter(lambda note: note.lower() not in d.VERDICTS),
    ),
    st.builds(
        d.Finding,
        subject=_TITLE,
        observed=_DETAIL,
        verdict=_VERDICT,
        note=_SHORT.filter(lambda note: note.lower() not in d.VERDICTS),
    ),
    st.builds(
        lambda finding: d.Finding(**{**vars(finding), "note": finding.verdict}),
        st.builds(d.Finding, subject=_TITLE, observed=_DETAIL, verdict=_VERDICT),
    ),
)
_PHASE = st.builds(
    d.Phase,
    number=st.integers(1, d.MAX_PHASE_NUMBER),
    title=_TITLE,
    status=st.sampled_from(d.PHASE_STATUSES),
    stated_progress=_PERCENT,
    duration_seconds=st.one_of(st.none(), st.integers(0, 10 * 365 * 86400)),
    started_at=_MAYBE_DATETIME,
    finished_at=_MAYBE_DATETIME,
    current_focus=_DETAIL,
    achievement=_DETAIL,
    extra_fields=_fields(("Owner", "Region", "Budget", "Team Lead", "Ticket")),
    tasks=st.lists(_TASK, max_size=3),
    challenges=st.lists(_CHALLENGE, max_size=2),
    findings=st.lists(_FINDING, max_size=2),
    completion_criteria=st.lists(_CRITERION, max_size=2),
)
# A blocker titled like one of its fields ('**Impact**: ...') is read as that field: the grammar
# cannot tell them apart. A blocker titled 'None' is fine (see test_it_keeps_a_blocker_titled_none).
_BLOCKER_WORDS = {"impact", "status", "description", "opened", "opened at", "raised", "since", "resolved"}
_BLOCKER_WORDS |= {"resolved at", "severity"}
_BLOCKER_FIELDS = {
    "title": _TITLE.filter(lambda title: title.lower() not in _BLOCKER_WORDS),
    "severity": st.sampled_from(d.SEVERITIES),
    "description": _DETAIL,
    "impact": _DETAIL,
    "status_text": _DETAIL,
    "opened_at": _MAYBE_DATETIME,
}
_BLOCKER = st.one_of(
    st.builds(d.Blocker, **_BLOCKER_FIELDS),
    st.builds(d.Blocker, **_BLOCKER_FIELDS, resolved=st.just(True), resolved_at=_MAYBE_DATETIME),
)
_NOTE_BODY_BLOCK = st.one_of(
    _PARAGRAPH,
    st.lists(_text(6), min_size=1, max_size=3).map(lambda items: "\n".join(f"- {item}" for item in items)),
    _TITLE.map(lambda title: f"### {title}"),
)
_NOTE = st.builds(
    d.Note,
    title=st.sampled_from(("Lessons Learned", "Open Questions", "Useful Links", "Team Notes", "Glossary", "Retro")),
    emoji=_MAYBE_ICON,
    body=st.lists(_NOTE_BODY_BLOCK, max_size=3).map("\n\n".join),
)


# An operation named 'Status' writes '**Status**: BLOCKED', which is the status line of an unnamed one.
_OVERALL_LABELS = {"STATUS"}
_NAME = st.one_of(_TITLE.filter(lambda name: name.upper() not in _OVERALL_LABELS), _TITLE.map("Operation {}".format))


@st.composite
def tracker_documents(draw: st.DrawFn) -> d.TrackerDocument:
    """A random valid document: unique phase numbers, the current phase among them, text kept plain."""
    phases = draw(st.lists(_PHASE, unique_by=lambda phase: phase.number, max_size=3))
    doc = draw(
        st.builds(
            d.TrackerDocument,
            name=_NAME,
            status=st.sampled_from(sorted(d.STATUS_WORDS)),
            status_icon=_MAYBE_ICON,
            start_date=st.one_of(st.none(), st.dates(dt.date(1970, 1, 1), dt.date(2100, 12, 31))),
            current_phase=st.one_of(st.none(), st.sampled_from([p.number for p in phases])) if phases else st.none(),
            stated_progress=_PERCENT,
            motto=st.one_of(st.just(""), _QUOTE),
            footer=st.one_of(st.just(""), _TITLE.map(lambda footer: f"**{footer}** 🐌✨"), _PARAGRAPHS),
            emoji=_MAYBE_ICON,
            title=st.one_of(st.just(""), _TITLE),
            extra_fields=_fields(("Sponsor", "Environment", "Budget", "Repository", "Dashboard")),
            phases=st.just(phases),
            next_steps=st.lists(
                st.builds(
                    d.NextStep,
                    title=_TITLE,
                    detail=_DETAIL,
                    done=st.booleans(),
                    group=_GROUP,
                    icon=_MAYBE_ICON,
                    written_as=_WRITTEN_AS,
                ),
                max_size=3,
            ),
            decisions=st.lists(st.builds(d.Decision, title=_TITLE, detail=_DETAIL, group=_GROUP), max_size=3),
            blockers=st.lists(_BLOCKER, max_size=3),
            achievements=st.lists(
                st.builds(d.Achievement, title=_TITLE, detail=_DETAIL, category=_GROUP, icon=_MAYBE_ICON), max_size=3
            ),
            quotes=st.lists(_QUOTE, max_size=2),
            notes=st.lists(_NOTE, max_size=2),
        )
    )
    doc = normalize(doc)
    if draw(st.booleans()):
        _rearrange(draw, doc)
    return doc


def _rearrange(draw: st.DrawFn, doc: d.TrackerDocument) -> None:
    """Put the sections in a random order, some without a closing `---`, some headings not in bold."""
    doc.sections = draw(st.permutations(doc.sections))
    for section in doc.sections:
        section.rule_after = draw(st.booleans())
        section.bold = draw(st.booleans())


@settings(max_examples=200, deadline=None, derandomize=True)
@given(tracker_documents())
def test_it_reads_back_every_valid_document_it_renders(doc: d.TrackerDocument) -> None:
    assert to_primitive(parse(render(doc))) == to_primitive(normalize(doc))


# --- bugs the generated documents found, each kept as a spec -------------------------------------------


def assert_round_trips(doc: d.TrackerDocument) -> None:
    assert to_primitive(parse(render(doc))) == to_primitive(normalize(doc))


def test_it_gives_a_new_note_section_its_heading() -> None:
    assert_round_trips(d.TrackerDocument(name="Operation Ink", notes=[d.Note(title="Lessons Learned", body="Small")]))


def test_it_numbers_notes_in_the_order_their_sections_come() -> None:
    doc = normalize(
        d.TrackerDocument(
            name="Operation Ink", notes=[d.Note(title="Links", body="a"), d.Note(title="Retro", body="b")]
        )
    )
    doc.sections = [doc.sections[0], doc.sections[2], doc.sections[1]]

    assert_round_trips(doc)


def test_it_keeps_the_icon_of_a_completion_criterion() -> None:
    phase = d.Phase(number=1, title="Launch", completion_criteria=[d.Task(title="Load tested", icon="🧪")])

    assert_round_trips(d.TrackerDocument(name="Operation Ink", phases=[phase]))


def test_it_keeps_both_the_expected_value_and_the_note() -> None:
    finding = d.Finding(subject="Disk", observed="85%", expected="90%", verdict="warning", note="log volumes only")

    assert_round_trips(
        d.TrackerDocument(name="Operation Ink", phases=[d.Phase(number=1, title="Tune", findings=[finding])])
    )


def test_it_keeps_a_blocker_titled_none() -> None:
    blockers = [d.Blocker(title="Quota", impact="Slow"), d.Blocker(title="None", impact="Nothing ships")]

    assert_round_trips(d.TrackerDocument(name="Operation Ink", blockers=blockers))


def test_it_keeps_a_bracket_that_ends_an_observed_value() -> None:
    finding = d.Finding(subject="Region", observed="Ireland (eu-west-1)", verdict="correct")
    doc = d.TrackerDocument(name="Operation Ink", phases=[d.Phase(number=1, title="Tune", findings=[finding])])

    assert "- ✅ **Region**: Ireland (eu-west-1\\)" in render(doc)
    assert_round_trips(doc)


def test_a_next_step_group_about_criteria_stays_a_next_step_group() -> None:
    steps = [d.NextStep(title="Agree on them", group="Criteria Review")]

    assert_round_trips(d.TrackerDocument(name="Operation Ink", next_steps=steps))
