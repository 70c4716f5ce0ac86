"""What the dashboard of one operation shows, gathered from one prefetched operation (no query per row)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .charts import Charts, build_charts, still_timeline, without_now
from .lib.live import figure_version
from .models import Achievement, Blocker, Challenge, Decision, Finding, Operation, Phase, Quote, Task
from .selectors import progress_history
from .summary import Summary, Tally, build_summary


@dataclass
class PhaseDetail:
    phase: Phase
    completed: list[Task] = field(default_factory=list)
    pending: list[Task] = field(default_factory=list)
    criteria: list[Task] = field(default_factory=list)
    challenges: list[Challenge] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Dashboard:
    operation: Operation
    phases: list[Phase]
    current: PhaseDetail | None
    details: dict[int, PhaseDetail]
    next_steps: list[Task]
    decisions: list[Decision]
    blockers_open: list[Blocker]
    blockers_resolved: list[Blocker]
    achievements: list[Achievement]
    quotes: list[Quote]

    @property
    def primary_blockers(self) -> list[Blocker]:
        return [b for b in self.blockers_open if b.severity == Blocker.Severity.PRIMARY]


def build_dashboard(operation: Operation) -> Dashboard:
    """Sort an operation fetched with `selectors.operation_with_content()` into the page's sections."""
    phases = list(operation.phases.all())
    details = {phase.pk: PhaseDetail(phase=phase) for phase in phases}
    next_steps = []
    for task in operation.tasks.all():
        if task.kind == Task.Kind.NEXT_STEP:
            next_steps.append(task)
        elif task.kind == Task.Kind.CRITERION:
            details[task.phase_id].criteria.append(task)
        else:
            (details[task.phase_id].completed if task.done else details[task.phase_id].pending).append(task)
    for challenge in operation.challenges.all():
        details[challenge.phase_id].challenges.append(challenge)
    for finding in operation.findings.all():
        if finding.phase_id in details:
            details[finding.phase_id].findings.append(finding)
    blockers = list(operation.blockers.all())
    return Dashboard(
        operation=operation,
        phases=phases,
        current=details.get(operation.current_phase_id),
        details=details,
        next_steps=next_steps,
        decisions=list(operation.decisions.all()),
        blockers_open=sorted((b for b in blockers if b.is_open), key=lambda b: b.severity != Blocker.Severity.PRIMARY),
        blockers_resolved=[b for b in blockers if not b.is_open],
        achievements=list(operation.achievements.all()),
        quotes=list(operation.quotes.all()),
    )


@dataclass
class Panel:
    """A section another app adds to the dashboard (live checks, ML endpoints): its template and data."""

    id: str
    title: str
    template: str
    context: dict[str, Any]
    # Chart specs the panel's template draws with <div data-chart="key">, added to the page's.
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How many of its things fail, of how many ("2 of 7 checks"): the top of the dashboard says it.
    tally: Tally | None = None


# Apps register a provider in their AppConfig.ready(); the tracker never imports them (they
# import it), so the dashboard grows without the tracker knowing about AWS or models.
PanelProvider = Callable[[Operation], Panel | None]
panel_providers: list[PanelProvider] = []
# A panel whose figures change without the operation changing (live latency) also registers a
# freshness function: operation id -> a string that changes when the panel would, or None.
# It becomes part of the dashboard's ETag, so a polling page picks the change up.
Freshness = Callable[[int], str | None]
panel_freshness: list[Freshness] = []


def register_panel(provider: PanelProvider, *, freshness: Freshness | None = None) -> PanelProvider:
    if provider not in panel_providers:
        panel_providers.append(provider)
    if freshness is not None and freshness not in panel_freshness:
        panel_freshness.append(freshness)
    return provider


@dataclass(frozen=True)
class Link:
    """A page of another app about this operation, linked from the dashboard's header."""

    label: str
    url: str


# Apps register a function (operation, can_admin) -> its links for a member who may (or may not)
# administer the operation: notify adds "Status reports" for everyone and "Notifications" for admins.
LinkProvider = Callable[[Operation, bool], list[Link]]
link_providers: list[LinkProvider] = []


def register_links(provider: LinkProvider) -> LinkProvider:
    if provider not in link_providers:
        link_providers.append(provider)
    return provider


def links_for(operation: Operation, *, can_admin: bool) -> list[Link]:
    return [link for provider in link_providers for link in provider(operation, can_admin)]


def panels_freshness(operation_id: int) -> str:
    return "".join(f"-{part}" for check in panel_freshness if (part := check(operation_id)))


def page_figures(charts: Charts, panels: list[Panel]) -> dict[str, dict[str, Any]]:
    """Every chart spec of the page, the dashboard's and its panels', for one JSON script tag."""
    figures = charts.figures()
    for panel in panels:
        figures |= panel.figures
    return figures


def panels_for(operation: Operation) -> list[Panel]:
    """The extra sections for this operation, in registration order; a provider returns None to stay out."""
    return [panel for provider in panel_providers if (panel := provider(operation)) is not None]


def board_charts(board: Dashboard, *, history: list | None = None, now: dt.datetime | None = None) -> Charts:
    """Burn-ups, timeline and forecasts of the board's operation (one query: its progress history)."""
    return build_charts(
        board.operation,
        board.phases,
        list(progress_history(operation=board.operation)) if history is None else history,
        open_primary_blockers=len(board.primary_blockers),
        now=now,
    )


@dataclass
class PageCharts:
    charts: Charts
    figures: dict[str, dict[str, Any]]  # every figure of the page, its panels' too, by key
    versions: dict[str, str]  # of each figure: moves with its data, never with the clock alone


_STILL = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # any instant will do, as long as it is always the same


def page_charts(board: Dashboard, panels: list[Panel], *, history: list | None = None) -> PageCharts:
    """The charts of the page and the version of each figure, for a page that polls for news; from
    the operation's progress `history` if given, else read (one query)."""
    history = list(progress_history(operation=board.operation)) if history is None else history
    charts = board_charts(board, history=history)
    figures = page_figures(charts, panels)
    # The burn-ups run to "now", and so does the current phase's bar on the timeline: their versions
    # leave that out (the timeline is drawn again at one fixed instant). A figure's version then moves
    # when its data does, and an open page never redraws a chart just because time passed.
    burnups = charts.burnup_keys()  # once: a set built from every phase's burn-up
    still = {key: without_now(figure) for key, figure in figures.items() if key in burnups}
    if "timeline" in figures:
        blockers = len(board.primary_blockers)
        still["timeline"] = still_timeline(
            board.operation, board.phases, history, open_primary_blockers=blockers, at=_STILL
        )
    versions = {key: figure_version(still.get(key, figure)) for key, figure in figures.items()}
    return PageCharts(charts=charts, figures=figures, versions=versions)


def board_summary(board: Dashboard, charts: Charts, panels: list[Panel], activity: list) -> Summary:
    """The first screen: read from what the board, its charts and its panels already hold (no query)."""
    operation = board.operation
    return build_summary(
        current=board.current.phase if board.current else None,
        blockers_open=board.blockers_open,
        tallies=[panel.tally for panel in panels if panel.tally is not None],
        check_backed=[*operation.findings.all(), *operation.tasks.all()],
        operation_forecast=charts.operation_forecast,
        phase_forecast=charts.phase_forecast,
        activity=activity,
    )
