"""Specs for reading hand-written tracker documents: the example, a family of variations, and broken ones.

Each broken document in `fixtures/documents/bad/` has a sibling `.errors` file with the exact
`LINE: message` lines the parser must report, all at once and sorted by line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tracker.lib import document as d
from tracker.lib.parser import DocumentError, decode, parse
from tracker.lib.values import (
    read_date,
    read_datetime,
    read_duration,
    read_percent,
    split_label,
    split_leading_icon,
    split_trailing_icons,
    write_duration,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
BAD = FIXTURES / "bad"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def family(name: str) -> d.TrackerDocument:
    return parse((FIXTURES / f"{name}.md").read_text(encoding="utf-8"))


def problems_in(data: bytes) -> list[str]:
    """The `LINE: message` lines the parser reports for a file's bytes."""
    with pytest.raises(DocumentError) as error:
        parse(decode(data))
    return [f"{problem.line}: {problem.message}" for problem in error.value.problems]


@pytest.fixture(scope="module")
def example() -> d.TrackerDocument:
    return parse(EXAMPLE.read_text(encoding="utf-8"))


# --- the example tracker ---------------------------------------------------------------------------


def test_it_reads_the_operation_the_example_is_about(example: d.TrackerDocument) -> None:
    assert (example.name, example.status, example.status_icon, example.emoji, example.title) == (
        "Operation Snail Trail",
        "in_progress",
        "🚀",
        "🐌",
        "",  # the H1 is the default "<NAME>: PROGRESS TRACKER", so no custom title is kept
    )


def test_it_reads_the_start_date_current_phase_and_stated_progress(example: d.TrackerDocument) -> None:
    assert (example.start_date, example.current_phase, example.stated_progress) == (dt.date(2025, 8, 11), 4, 90)


def test_it_reads_the_motto_and_the_footer(example: d.TrackerDocument) -> None:
    assert example.motto == '*"Slow and steady wins the race, but only if you document every step!"* 🐌✨'
    assert example.footer == "**Operation Snail Trail - Building the future, one investigation at a time!** 🐌🏗️✨"


def test_it_reads_every_phase_with_its_status_progress_and_duration(example: d.TrackerDocument) -> None:
    assert [(p.number, p.title, p.status, p.stated_progress, p.duration_seconds) for p in example.phases] == [
        (1, "Basic System Operational", "complete", 100, 9660),
        (2, "Hybrid ML Service", "complete", 100, 1800),
        (3, "ML Foundation Building", "complete", 100, 1500),
        (4, "Enhanced ML Service Deployment", "in_progress", 90, None),
    ]


def test_it_reads_what_each_phase_achieved_and_the_current_focus(example: d.TrackerDocument) -> None:
    assert [(p.achievement, p.current_focus) for p in example.phases] == [
        ("Basic health check service deployed and operational", ""),
        ("Hybrid ML service with graceful degradation deployed", ""),
        ("Multi-stage Docker builds, dependency optimization, enhanced logging", ""),
        ("", "Network configuration investigation completed - comprehensive VPC solution attempted"),
    ]


def test_it_reads_the_completed_tasks_of_phase_4(example: d.TrackerDocument) -> None:
    done = [task for task in example.phase(4).tasks if task.done]

    assert [task.title for task in done] == [
        "Enhanced ML Service",
        "Container Optimization",
        "ECR Deployment",
        "ECS Service Update",
        "Health Status",
        "Security Groups",
        "VPC DNS Configuration",
        "Route Table Association",
    ]
    assert done[0] == d.Task(title="Enhanced ML Service", detail="Built and deployed successfully", done=True)


def test_it_reads_the_pending_tasks_of_phase_4(example: d.TrackerDocument) -> None:
    pending = [task for task in example.phase(4).tasks if not task.done]

    assert [task.title for task in pending] == [
        "Alternative Network Strategy",
        "AWS Account Check",
        "Focus on Other Objectives",
        "Enhanced ML Service",
        "Production Monitoring",
        "Security Hardening",
        "Performance Optimization",
        "End-to-End Validation",
    ]
    assert pending[-1] == d.Task(
        title="End-to-End Validation", detail="Complete production readiness testing", written_as="pending"
    )


def test_it_reads_the_current_challenges_without_the_default_icon(example: d.TrackerDocument) -> None:
    assert example.phase(4).challenges == [
        d.Challenge(
            title="Network Configuration",
            detail="Public IP assignment not working despite complete VPC configuration",
        ),
        d.Challenge(title="VPC Investigation", detail="Comprehensive analysis completed with all guidance implemented"),
        d.Challenge(title="Solution Attempt", detail="All recommended VPC fixes applied without success"),
    ]


def test_it_reads_the_investigation_results_with_their_verdicts(example: d.TrackerDocument) -> None:
    assert example.phase(4).findings == [
        d.Finding(subject="Subnet Configuration", observed="`MapPublicIpOnLaunch: True`", note="correct"),
        d.Finding(
            subject="Route Tables",
            observed="Internet gateway routes present and subnet associated",
            note="correct",
        ),
        d.Finding(subject="ECS Service", observed='`assignPublicIp: "ENABLED"`', note="correct"),
        d.Finding(
            subject="VPC DNS",
            observed="`enableDnsHostnames: true`, `enableDnsSupport: true`",
            note="correct",
        ),
        d.Finding(subject="Root Cause", observed="Issue deeper than standard VPC configuration", verdict="wrong"),
    ]


def test_it_reads_the_decisions_under_their_group(example: d.TrackerDocument) -> None:
    assert example.decisions == [
        d.Decision(
            title="Enhanced ML Service", detail="Successfully deployed with all optimizations", group="Phase 4 Strategy"
        ),
        d.Decision(
            title="Network Investigation",
            detail="Comprehensive analysis of VPC configuration",
            group="Phase 4 Strategy",
        ),
        d.Decision(
            title="Multi-Subnet Testing", detail="Verified issue affects all subnets in VPC", group="Phase 4 Strategy"
        ),
        d.Decision(
            title="Root Cause Identification",
            detail="VPC-level configuration preventing public IP assignment",
            group="Phase 4 Strategy",
        ),
    ]


def test_it_reads_the_primary_blocker_with_its_impact_and_status(example: d.TrackerDocument) -> None:
    assert example.blockers == [
        d.Blocker(
            title="VPC Network Configuration",
            description="Public IP assignment not working despite correct subnet and service configuration",
            impact="Enhanced ML service cannot be accessed from internet",
            status_text="Under investigation - requires AWS infrastructure-level resolution",
        )
    ]


def test_it_reads_the_achievements_with_their_categories_and_icons(example: d.TrackerDocument) -> None:
    assert [(a.category, a.icon, a.title) for a in example.achievements] == [
        ("Technical Accomplishments", "🏗️", "Multi-Stage Docker Builds"),
        ("Technical Accomplishments", "📦", "Dependency Pinning"),
        ("Technical Accomplishments", "📊", "Enhanced Logging"),
        ("Technical Accomplishments", "☁️", "S3 Optimization"),
        ("Technical Accomplishments", "🔒", "Security Configuration"),
        ("Operational Success", "✅", "Enhanced ML Service"),
        ("Operational Success", "✅", "Container Health"),
        ("Operational Success", "✅", "Service Stability"),
        ("Operational Success", "✅", "Infrastructure"),
    ]


def test_it_reads_the_wisdom_quote(example: d.TrackerDocument) -> None:
    assert example.quotes == [
        '*"Sometimes the biggest challenges reveal the most important insights. Our enhanced ML service is working'
        ' perfectly - we just need to solve this network puzzle!"*'
    ]


def test_it_reads_the_next_steps_under_their_group(example: d.TrackerDocument) -> None:
    assert example.next_steps == [
        d.NextStep(
            title="Network Resolution", detail="Continue investigating VPC configuration", group="Immediate Actions"
        ),
        d.NextStep(
            title="Alternative Approaches", detail="Consider different network strategies", group="Immediate Actions"
        ),
        d.NextStep(
            title="Documentation", detail="Update all Snail Trail logs with findings", group="Immediate Actions"
        ),
    ]


def test_it_gives_phase_4_its_completion_criteria_none_done(example: d.TrackerDocument) -> None:
    assert example.phase(4).completion_criteria == [
        d.Task(title="Enhanced ML service accessible from internet"),
        d.Task(title="All ML endpoints functional in production"),
        d.Task(title="Performance monitoring active"),
        d.Task(title="Security measures implemented"),
        d.Task(title="End-to-end validation complete"),
    ]
    assert [p.completion_criteria for p in example.phases[:3]] == [[], [], []]


def test_it_remembers_the_sections_as_the_example_lays_them_out(example: d.TrackerDocument) -> None:
    assert [(s.key, s.ref, s.emoji, s.title, s.rule_after) for s in example.sections] == [
        ("overall", None, "🎯", "OVERALL STATUS", True),
        ("phases", None, "📊", "PHASE COMPLETION STATUS", True),
        ("phase_detail", 4, "🚀", "PHASE 4 DETAILED PROGRESS", True),
        ("decisions", None, "🎯", "STRATEGIC DECISIONS MADE", True),
        ("blockers", None, "🚨", "CURRENT BLOCKERS", True),
        ("achievements", None, "🎉", "MAJOR ACHIEVEMENTS", True),
        ("wisdom", None, "🐌", "SNAIL TRAIL WISDOM", True),
        ("next_steps", None, "🚀", "NEXT STEPS", True),
    ]


# --- the family of documents -------------------------------------------------------------------------


def test_it_reads_seven_phases_with_durations_in_any_spelling() -> None:
    doc = family("operation-red-fox")

    assert [(p.number, p.status, p.stated_progress, p.duration_seconds) for p in doc.phases] == [
        (1, "complete", 100, 100800),  # 1 day 4 hours
        (2, "complete", 100, 2700),  # 45 min
        (3, "complete", 100, 9000),  # 2h 30m
        (4, "in_progress", 60, None),
        (5, "not_started", 0, None),
        (6, "not_started", None, None),
        (7, "not_started", None, None),
    ]


def test_it_reads_an_operation_status_synonym_and_its_icon() -> None:
    doc = family("operation-red-fox")

    assert (doc.name, doc.emoji, doc.status, doc.status_icon) == ("Operation Red Fox", "🦊", "in_progress", "🏃")


def test_it_gives_unnumbered_completion_criteria_to_the_current_phase() -> None:
    doc = family("operation-red-fox")

    assert doc.phase(4).completion_criteria == [
        d.Task(title="Mirrored writes are dropped before the canary"),
        d.Task(title="Mirror ratio adjustable without a deploy", done=True),
        d.Task(title="A week of clean diff reports"),
    ]


def test_it_reads_ticked_next_steps_as_done() -> None:
    doc = family("operation-red-fox")

    assert [(s.title, s.done) for s in doc.next_steps] == [
        ("Proxy Patch", True),
        ("Review", False),
        ("Raise Ratio", False),
    ]


def test_it_reads_warning_and_wrong_findings_with_what_was_expected() -> None:
    doc = family("operation-night-owl")

    assert doc.phase(2).findings == [
        d.Finding(subject="Scrape Interval", observed="`scrape_interval: 15s`", note="correct"),
        d.Finding(subject="Disk Alert Threshold", observed="`85%`", expected="`90%` on log volumes", verdict="warning"),
        d.Finding(
            subject="Pager Routing",
            observed="Database alerts page the web team",
            expected="the data team",
            verdict="wrong",
        ),
        d.Finding(subject="Silences", observed="14 silences older than a month", verdict="warning", note="warning"),
    ]


def test_it_reads_a_ticked_pending_task_as_done_and_keeps_custom_icons() -> None:
    doc = family("operation-night-owl")

    assert [(t.title, t.done, t.icon) for t in doc.phase(2).tasks] == [
        ("Alert Inventory", True, ""),
        ("Dead Rules", True, "🧹"),
        ("Runbook Links", True, ""),
        ("Severity Review", False, ""),
        ("Flap Detection", False, ""),
    ]


def test_it_reads_primary_secondary_and_resolved_blockers_with_their_times() -> None:
    doc = family("operation-night-owl")

    assert [(b.title, b.severity, b.resolved, b.opened_at, b.resolved_at) for b in doc.blockers] == [
        ("Routing Ownership", "primary", False, at(2025, 6, 9, 8, 15), None),
        ("Grafana Upgrade", "secondary", False, at(2025, 6, 10, 14, 30), None),
        ("Prometheus Disk", "primary", True, at(2025, 6, 3, 10), at(2025, 6, 4, 16, 45, 30)),
        ("Noisy Neighbour", "secondary", True, None, None),
    ]


def test_it_reads_when_a_phase_started_and_finished() -> None:
    phase = family("operation-night-owl").phase(1)

    assert (phase.started_at, phase.finished_at, phase.duration_seconds) == (
        at(2025, 6, 2, 9),
        at(2025, 6, 5, 11),
        266400,
    )


def test_it_reads_an_iso_start_date_and_the_alternative_in_progress_mark() -> None:
    doc = family("operation-night-owl")

    assert (doc.start_date, doc.phase(2).status) == (dt.date(2025, 6, 2), "in_progress")


def test_it_reads_a_document_missing_several_sections() -> None:
    doc = family("operation-quiet-harbor")

    assert [s.key for s in doc.sections] == ["overall", "phases", "blockers", "next_steps"]
    assert (doc.decisions, doc.achievements, doc.quotes, doc.motto, doc.footer) == ([], [], [], "", "")


def test_it_reads_none_under_blockers_as_no_blockers() -> None:
    assert family("operation-quiet-harbor").blockers == []


def test_it_reads_a_planned_operation_with_phases_not_started() -> None:
    doc = family("operation-quiet-harbor")

    assert (doc.status, doc.current_phase, doc.stated_progress) == ("not_started", None, 0)
    assert [(p.number, p.title, p.status) for p in doc.phases] == [
        (1, "Vendor Selection", "not_started"),
        (2, "Pilot Migration", "not_started"),
    ]


def test_it_reads_next_steps_without_a_group_heading() -> None:
    assert family("operation-quiet-harbor").next_steps == [
        d.NextStep(title="Budget Approval", detail="Get the migration budget signed"),
        d.NextStep(title="Shortlist", detail="Pick three backup vendors to evaluate"),
    ]


def test_it_keeps_sections_in_the_order_the_document_has_them() -> None:
    doc = family("operation-paper-crane")

    assert [(s.key, s.ref) for s in doc.sections] == [
        ("overall", None),
        ("blockers", None),
        ("next_steps", None),
        ("phases", None),
        ("note", 0),
        ("phase_detail", 2),
    ]


def test_it_keeps_an_unknown_section_verbatim_as_a_note() -> None:
    assert family("operation-paper-crane").notes == [
        d.Note(
            title="LESSONS LEARNED",
            emoji="📝",
            body="Backfills are cheaper in small batches than in one long transaction.\n\n"
            "- Always test the rollback script on a copy first.\n"
            "- Keep `statement_timeout` low during migrations.",
        )
    ]


def test_it_reads_a_phase_detail_that_comes_after_the_sections_it_needs() -> None:
    doc = family("operation-paper-crane")

    assert [(t.title, t.done) for t in doc.phase(2).tasks] == [
        ("New Schema", True),
        ("Dual Writes", True),
        ("Backfill", False),
        ("Read Switch", False),
    ]


def test_it_keeps_fields_it_does_not_know_in_their_order() -> None:
    doc = family("operation-paper-crane")

    assert (doc.extra_fields, doc.phase(2).extra_fields) == (
        [["Owner", "Data Platform Team"]],
        [["Reviewer", "Database guild"]],
    )


def test_it_reads_a_day_month_year_start_date() -> None:
    assert family("operation-paper-crane").start_date == dt.date(2025, 7, 14)


def test_it_reads_a_completed_operation() -> None:
    doc = family("operation-deep-current")

    assert (doc.status, doc.status_icon, doc.stated_progress) == ("complete", "✅", 100)
    assert [(p.status, p.duration_seconds) for p in doc.phases] == [
        ("complete", 22800),  # 6 hours 20 minutes
        ("complete", 777600),  # 1 week 2 days
        ("complete", 5400),  # 90 minutes
    ]


def test_it_reads_decisions_in_two_groups() -> None:
    doc = family("operation-deep-current")

    assert [(x.group, x.title) for x in doc.decisions] == [
        ("Migration Strategy", "Stream, Then Switch"),
        ("Migration Strategy", "Keep Snapshots"),
        ("Rollback Plan", "Reverse Stream"),
    ]


def test_it_reads_a_resolved_date_without_a_time_as_midnight_utc() -> None:
    assert family("operation-deep-current").blockers == [
        d.Blocker(
            title="Schema Drift",
            description="Two columns differed between the clusters",
            status_text="Fixed with a migration before the switch",
            resolved=True,
            resolved_at=at(2025, 1, 15),
        )
    ]


def test_it_keeps_achievement_icons_with_their_variation_selectors() -> None:
    doc = family("operation-deep-current")

    assert [(a.category, a.icon, a.title) for a in doc.achievements] == [
        ("Technical Accomplishments", "☁️", "Zero Downtime"),
        ("Technical Accomplishments", "🏗️", "Reusable Pipeline"),
        ("Technical Accomplishments", "⚠️", "Honest Metrics"),
        ("Team Wins", "🙌", "Runbook"),
    ]


def test_it_reads_every_quote_of_the_wisdom_section() -> None:
    assert family("operation-deep-current").quotes == [
        '*"The quietest migrations are the ones rehearsed the most."*',
        '*"Delete nothing you have not restored once."*',
    ]


def test_it_reads_a_blocked_operation_and_its_blocked_phase() -> None:
    doc = family("operation-stone-bridge")

    assert (doc.status, doc.status_icon) == ("blocked", "🛑")
    assert [(p.number, p.status, p.stated_progress) for p in doc.phases] == [
        (1, "complete", 100),
        (2, "blocked", 10),
        (3, "not_started", 0),
    ]


def test_it_reads_fractional_durations() -> None:
    assert family("operation-stone-bridge").phase(1).duration_seconds == 5400  # 1.5 hours


def test_it_reads_since_as_when_a_blocker_was_opened() -> None:
    assert family("operation-stone-bridge").blockers[0].opened_at == at(2025, 9, 12, 10, 30)


def test_it_keeps_a_custom_challenge_icon_and_drops_the_default_one() -> None:
    assert [(c.icon, c.title) for c in family("operation-stone-bridge").phase(2).challenges] == [
        ("", "Overlapping Ranges"),
        ("🧮", "Renumbering Cost"),
    ]


def test_it_keeps_a_title_that_is_not_the_default() -> None:
    doc = family("operation-glass-lantern")

    assert (doc.emoji, doc.title, doc.name) == ("🏮", "Glass Lantern Rollout Tracker", "Operation Glass Lantern")


def test_it_reads_criteria_of_a_named_phase_and_of_the_current_phase() -> None:
    doc = family("operation-glass-lantern")

    assert [(p.number, [(t.title, t.done) for t in p.completion_criteria]) for p in doc.phases] == [
        (1, []),
        (2, [("Every employee saw the new screens", True), ("Feedback triaged", True)]),
        (3, [("Accessibility audit passed", False), ("Beta satisfaction above 80%", False)]),
    ]


def test_it_reads_detail_sections_of_two_phases() -> None:
    doc = family("operation-glass-lantern")

    assert [[(t.title, t.done) for t in p.tasks] for p in doc.phases] == [
        [],
        [("Staff Rollout", True), ("Feedback Form", True)],
        # In document order: 'Support Macros' is ticked `[x]` and stays under Pending Tasks (#15).
        [("Beta Cohort", True), ("Accessibility Audit", False), ("Support Macros", True)],
    ]
    assert [t.written_as for t in doc.phases[2].tasks] == ["", "pending", "pending"]


def test_it_reads_an_operation_on_hold() -> None:
    assert family("operation-glass-lantern").status == "on_hold"


def test_it_takes_the_name_from_the_title_when_the_status_line_has_none() -> None:
    doc = family("operation-first-light")

    assert (doc.name, doc.status, doc.status_icon) == ("Operation First Light", "in_progress", "🚀")


def test_it_creates_the_current_phase_when_there_is_no_phase_list() -> None:
    assert family("operation-first-light").phases == [
        d.Phase(
            number=1,
            title="Kickoff",
            status="in_progress",
            completion_criteria=[d.Task(title="Roster confirmed"), d.Task(title="Plan reviewed by every team lead")],
        )
    ]


# --- broken documents ----------------------------------------------------------------------------------

BAD_DOCUMENTS = [pytest.param(path, id=path.stem) for path in sorted(BAD.glob("*.md"))]


def test_it_has_broken_documents_each_with_its_expected_errors() -> None:
    assert len(BAD_DOCUMENTS) >= 10
    assert sorted(p.stem for p in BAD.glob("*.errors")) == sorted(p.stem for p in BAD.glob("*.md"))


@pytest.mark.parametrize("path", BAD_DOCUMENTS)
def test_it_reports_exactly_the_expected_problems_of_a_broken_document(path: Path) -> None:
    expected = path.with_suffix(".errors").read_text(encoding="utf-8").splitlines()

    assert problems_in(path.read_bytes()) == expected


def test_it_refuses_a_binary_file_at_the_line_of_its_first_nul_byte() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"

    assert problems_in(png) == ["3: this is a binary file, not a markdown document (it has NUL bytes)"]


def test_it_refuses_text_that_is_not_utf8() -> None:
    assert problems_in("# Café\n\nok\n".encode("latin-1")) == [
        "1: the document is not UTF-8 text (byte 0xe9 cannot be read)"
    ]


def test_it_reads_a_file_that_starts_with_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + EXAMPLE.read_bytes()

    assert parse(decode(data)) == parse(EXAMPLE.read_text(encoding="utf-8"))


def test_it_does_not_blame_the_current_phase_for_a_phase_heading_it_rejected() -> None:
    text = (BAD / "phase-without-title.md").read_text(encoding="utf-8")
    text = text.replace("**Current Phase**: Phase 1 - Setup", "**Current Phase**: Phase 2 - Rollout")

    assert problems_in(text.encode()) == ["18: Phase 2 has no title"]


# --- values ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1 day 4 hours", 100800),
        ("2h 41m", 9660),
        ("2 hours 41 minutes", 9660),
        ("45 min", 2700),
        ("1.5 hours", 5400),
        ("1 week 2 days", 777600),
        ("1 day, 4 hours and 5 minutes", 101100),
        ("90s", 90),
    ],
)
def test_it_reads_durations_in_the_spellings_people_use(text: str, seconds: int) -> None:
    assert read_duration(text) == seconds


@pytest.mark.parametrize("text", ["forever", "", "5", "2 parsecs", "2 hours later", "hours 2"])
def test_it_refuses_a_duration_it_cannot_read_and_shows_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError) as error:
        read_duration(text)

    assert str(error.value) == f"cannot read the duration '{text}' (write e.g. '2 hours 41 minutes' or '1 day 4 hours')"


def test_it_refuses_a_duration_longer_than_ten_years() -> None:
    with pytest.raises(ValueError, match=r"^the duration '600 weeks' is longer than ten years$"):
        read_duration("600 weeks")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 minutes"),
        (60, "1 minute"),
        (9660, "2 hours 41 minutes"),
        (100800, "1 day 4 hours"),
        (90061, "1 day 1 hour 1 minute 1 second"),
    ],
)
def test_it_writes_durations_that_read_back_the_same(seconds: int, text: str) -> None:
    assert (write_duration(seconds), read_duration(text)) == (text, seconds)


@pytest.mark.parametrize(
    ("text", "percent"),
    [("90% Complete", 90), ("0%", 0), ("100% complete", 100), ("75 % done", 75), ("12% Completed", 12)],
)
def test_it_reads_percentages(text: str, percent: int) -> None:
    assert read_percent(text) == percent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("banana% Complete", "progress 'banana%' is not a whole number"),
        ("140% Complete", "progress must be between 0% and 100%, got 140%"),
        ("ninety percent", "expected a progress like '90% Complete', got 'ninety percent'"),
    ],
)
def test_it_refuses_a_percentage_that_is_not_a_progress(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        read_percent(text)

    assert str(error.value) == message


@pytest.mark.parametrize("text", ["August 11, 2025", "Aug 11, 2025", "11 August 2025", "2025-08-11", "August 11,2025"])
def test_it_reads_dates_in_the_spellings_people_use(text: str) -> None:
    assert read_date(text) == dt.date(2025, 8, 11)


@pytest.mark.parametrize("text", ["February 30, 2025", "2025-02-30", "31 April 2025"])
def test_it_says_an_impossible_date_is_not_a_real_date(text: str) -> None:
    with pytest.raises(ValueError) as error:
        read_date(text)

    assert str(error.value) == f"'{text}' is not a real date (day is out of range for month)"


def test_it_refuses_a_date_it_cannot_read_and_shows_how_to_write_one() -> None:
    with pytest.raises(ValueError) as error:
        read_date("next Tuesday")

    assert str(error.value) == "cannot read the date 'next Tuesday' (write e.g. 'August 11, 2025' or '2025-08-11')"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("June 4, 2025 16:45:30 UTC", at(2025, 6, 4, 16, 45, 30)),
        ("September 12, 2025 at 10:30", at(2025, 9, 12, 10, 30)),
        ("June 4, 2025 4:45 PM", at(2025, 6, 4, 16, 45)),
        ("2025-06-04T16:45:30+02:00", at(2025, 6, 4, 14, 45, 30)),
        ("January 15, 2025", at(2025, 1, 15)),
    ],
)
def test_it_reads_times_as_utc(text: str, value: dt.datetime) -> None:
    assert read_datetime(text) == value


def test_it_says_an_impossible_date_with_a_time_is_not_a_real_date() -> None:
    with pytest.raises(ValueError, match="is not a real date"):
        read_datetime("February 30, 2025 10:00 UTC")


@pytest.mark.parametrize(
    ("text", "icon", "rest"),
    [
        ("🏗️ **Multi-Stage Docker Builds**: x", "🏗️", "**Multi-Stage Docker Builds**: x"),
        ("⚠️ **Disk**: 85%", "⚠️", "**Disk**: 85%"),
        ("☁️ **S3 Optimization**: y", "☁️", "**S3 Optimization**: y"),
        ("👍🏽 skin tone", "👍🏽", "skin tone"),
        ("🇪🇺 flag", "🇪🇺", "flag"),
        ("👩‍💻 joined", "👩‍💻", "joined"),
        ("plain text", "", "plain text"),
        ("**Bold**: first", "", "**Bold**: first"),
    ],
)
def test_it_splits_a_leading_icon_whole_with_its_variation_selector(text: str, icon: str, rest: str) -> None:
    assert split_leading_icon(text) == (icon, rest)


def test_it_keeps_the_variation_selector_of_an_icon() -> None:
    assert [len(split_leading_icon(f"{icon} x")[0]) for icon in ("🏗️", "⚠️", "☁️", "🏗", "⚠", "☁")] == [2, 2, 2, 1, 1, 1]


def test_it_splits_a_keycap_icon() -> None:
    assert split_leading_icon("1️⃣ **First**: step") == ("1️⃣", "**First**: step")


@pytest.mark.parametrize(
    ("text", "words", "icon"),
    [("IN PROGRESS 🚀", "IN PROGRESS", "🚀"), ("BLOCKED ⛔️", "BLOCKED", "⛔️"), ("DONE", "DONE", "")],
)
def test_it_splits_trailing_icons_from_a_status(text: str, words: str, icon: str) -> None:
    assert split_trailing_icons(text) == (words, icon)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("**Status**: 90% Complete", ("Status", "90% Complete")),
        ("**Phase 4 Strategy:**", ("Phase 4 Strategy", "")),
        ("**Duration:** 30 minutes", ("Duration", "30 minutes")),
        ("**Note** that this is prose", None),
        ("no bold at all", None),
    ],
)
def test_it_reads_bold_labels_and_leaves_bold_prose_alone(text: str, label: tuple[str, str] | None) -> None:
    assert split_label(text) == label
