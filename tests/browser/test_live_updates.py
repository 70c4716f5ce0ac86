"""Live updates between two people on one dashboard, each in a browser context of their own, and
what an idle open dashboard costs while live checks keep running.

The page polls every 2 s and swaps in only the sections that changed (static/js/dashboard.js,
tracker/views/pages.py: dashboard_live). Every edit in one tab must show in the other within
SHOWS_WITHIN_MS, counted from when the editing tab has the server's answer.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import F
from playwright.sync_api import expect

from tests.browser.conftest import DASHBOARD, log_in, open_dashboard, polls_handled, wait_for_poll
from tracker import services
from tracker.models import Finding, Operation, Task

pytestmark = pytest.mark.browser

SHOWS_WITHIN_MS = 3000
PHASE_3 = "Phase 3: ML Foundation Building"
PHASE_4 = "Phase 4: Enhanced ML Service Deployment"


def two_tabs(new_page, live_server, a: str = "teammate", b: str = "owner"):
    """Tab A and tab B on the dashboard, logged in as `a` and `b`, each in its own browser context."""
    first, second = new_page(), new_page()
    open_dashboard(log_in(first, live_server, a), live_server)
    open_dashboard(log_in(second, live_server, b), live_server)
    return first, second


def current_phase(page):
    return page.locator("#status dt:text-is('Current phase') + dd")


def done_in_burnup(page) -> int:
    """The last 'Done' value the operation's burn-up chart shows (plotly keeps its data on the element)."""
    return page.evaluate(
        """() => document.querySelector("[data-chart=burnup]").data.find((t) => t.name === "Done").y.at(-1)"""
    )


def count_redraws(page) -> None:
    page.evaluate("""() => {
        window.__redraws = [];
        const react = window.Plotly.react;
        window.Plotly.react = function (element, ...rest) {
            window.__redraws.push(element.dataset.chart);
            return react.call(this, element, ...rest);
        };
    }""")


def test_a_phase_move_reaches_the_other_tab_and_so_does_every_edit_after_it(new_page, live_server, team):
    a, b = two_tabs(new_page, live_server)
    expect(current_phase(b)).to_have_text(PHASE_4)
    phase_3, phase_4 = team.phases.get(number=3), team.phases.get(number=4)

    # A moves the current phase back to 3: B's header and B's picker follow (the picker used to keep
    # Phase 4, so that B's "Move" put it back, and B froze from then on).
    a.locator("#current-phase").select_option(str(phase_3.pk))
    a.get_by_role("button", name="Move").click()
    expect(current_phase(a)).to_have_text(PHASE_3)
    expect(current_phase(b)).to_have_text(PHASE_3, timeout=SHOWS_WITHIN_MS)
    expect(b.locator("#current-phase")).to_have_value(str(phase_3.pk))
    expect(b.locator("#current-h")).to_contain_text(PHASE_3)

    # Then A raises a blocker: it shows in B.
    a.locator("#add-blocker summary").click()
    a.locator("#blocker-title").fill("Health check path returns 404")
    a.get_by_role("button", name="Raise").click()
    expect(a.locator("article.blocker").filter(has_text="Health check path returns 404")).to_be_visible()
    expect(b.locator("article.blocker").filter(has_text="Health check path returns 404")).to_be_visible(
        timeout=SHOWS_WITHIN_MS
    )

    # A moves it forward again, then ticks one of its tasks: B shows it ticked, and B's burn-up moves.
    a.locator("#current-phase").select_option(str(phase_4.pk))
    a.get_by_role("button", name="Move").click()
    expect(current_phase(a)).to_have_text(PHASE_4)
    expect(current_phase(b)).to_have_text(PHASE_4, timeout=SHOWS_WITHIN_MS)
    done_before = done_in_burnup(b)
    a.get_by_role("button", name="Mark done: AWS Account Check", exact=True).click()
    expect(a.get_by_role("button", name="Reopen: AWS Account Check", exact=True)).to_be_visible()
    task = Task.objects.get(title="AWS Account Check")
    expect(b.locator(f"#task-{task.pk}")).to_have_class("done", timeout=SHOWS_WITHIN_MS)
    b.wait_for_function(
        "n => document.querySelector('[data-chart=burnup]').data.find((t) => t.name === 'Done').y.at(-1) === n",
        arg=done_before + 1,
        timeout=SHOWS_WITHIN_MS,
    )

    # And A records a decision: B still follows (it never froze).
    a.locator("#add-decision summary").click()
    a.locator("#decision-title").fill("Serve the health check on /healthz")
    a.get_by_role("button", name="Record").click()
    expect(a.locator("#decisions")).to_contain_text("Serve the health check on /healthz")
    expect(b.locator("#decisions")).to_contain_text("Serve the health check on /healthz", timeout=SHOWS_WITHIN_MS)

    # B's "Move" now keeps phase 4: nothing of A's is undone.
    b.get_by_role("button", name="Move").click()
    expect(current_phase(b)).to_have_text(PHASE_4)
    assert Operation.objects.get(pk=team.pk).current_phase_id == phase_4.pk


def test_a_half_typed_form_survives_the_other_tabs_edits(new_page, live_server, team):
    a, b = two_tabs(new_page, live_server)
    wait_for_poll(b)
    form = b.locator("#add-blocker")
    form.locator("summary").click()
    b.locator("#blocker-title").fill("Half-written blocker")
    b.locator("#blocker-severity").select_option("primary")
    b.locator("#blocker-description").click()
    b.keyboard.type("The target group says")  # B is still typing here

    # A raises a blocker (in the very section B's form is in), then resolves the primary one.
    a.locator("#add-blocker summary").click()
    a.locator("#blocker-title").fill("Raised by A")
    a.get_by_role("button", name="Raise").click()
    expect(a.locator("article.blocker").filter(has_text="Raised by A")).to_be_visible()
    expect(b.locator("article.blocker").filter(has_text="Raised by A")).to_be_visible(timeout=SHOWS_WITHIN_MS)
    primary = a.locator("article.blocker").filter(has_text="VPC Network Configuration")
    primary.get_by_role("button", name="Resolve").click()
    expect(a.locator("article.blocker").filter(has_text="VPC Network Configuration")).to_have_count(0)
    expect(b.locator("article.blocker").filter(has_text="VPC Network Configuration")).to_have_count(
        0, timeout=SHOWS_WITHIN_MS
    )
    wait_for_poll(b)

    # B's form is as B left it: open, filled in, the caret where B was typing.
    assert form.evaluate("details => details.open")
    expect(b.locator("#blocker-title")).to_have_value("Half-written blocker")
    expect(b.locator("#blocker-severity")).to_have_value("primary")
    expect(b.locator("#blocker-description")).to_be_focused()
    b.keyboard.type(" 404")
    expect(b.locator("#blocker-description")).to_have_value("The target group says 404")

    # And it still works.
    b.get_by_role("button", name="Raise").click()
    raised = b.locator("article.blocker").filter(has_text="Half-written blocker")
    expect(raised).to_contain_text("The target group says 404")
    expect(b.get_by_role("alert")).to_contain_text("Half-written blocker")


def test_a_form_b_only_looked_at_follows_the_change(new_page, live_server, team):
    """Focus held a form back; once B leaves it untouched, it shows what the server has."""
    a, b = two_tabs(new_page, live_server)
    phase_2 = team.phases.get(number=2)
    b.locator("#current-phase").focus()

    a.locator("#current-phase").select_option(str(phase_2.pk))
    a.get_by_role("button", name="Move").click()
    expect(current_phase(b)).to_contain_text("Phase 2", timeout=SHOWS_WITHIN_MS)
    expect(b.locator("#current-phase")).to_be_focused()  # kept while B is on it
    b.locator("#current-phase").blur()

    expect(b.locator("#current-phase")).to_have_value(str(phase_2.pk))


def test_an_idle_tab_with_checks_running_costs_under_1_kb_a_second_and_redraws_no_chart(page, live_server, team):
    """Each poll is followed by a check run: it stamps the check-backed findings and criteria and moves
    the operation's version, as ops/runner.py does, so no poll can be answered by a 304 for free."""
    checked = [*Finding.objects.filter(operation=team)[:4], *Task.objects.filter(operation=team, kind="criterion")[:3]]

    def check_run() -> None:
        now = dt.datetime.now(dt.UTC)
        for item in checked:
            services.item_mark_checked(item=item, at=now, stale_after=dt.timedelta(minutes=5))
        Operation.objects.filter(pk=team.pk).update(version=F("version") + 1)

    check_run()
    open_dashboard(log_in(page, live_server, "viewer"), live_server)
    wait_for_poll(page)
    count_redraws(page)
    polls = []
    page.on("requestfinished", lambda request: "/live/" in request.url and polls.append(request))
    started, first = time.monotonic(), polls_handled(page)

    statuses = []
    for _ in range(10):
        check_run()
        statuses.append(wait_for_poll(page))
    seconds = time.monotonic() - started

    sizes = [request.sizes() for request in polls]
    received = sum(size["responseHeadersSize"] + size["responseBodySize"] for size in sizes)
    sent = sum(size["requestHeadersSize"] for size in sizes)
    print(
        f"\nidle tab, a check run before each poll: {polls_handled(page) - first} polls in {seconds:.1f} s,"
        f" {received} bytes received ({received / seconds:.0f} B/s), {sent} bytes of request headers"
        f" sent ({sent / seconds:.0f} B/s); statuses {statuses}"
    )
    assert statuses.count(200) >= 5, statuses  # the check runs were news to the server
    assert received / seconds <= 1024
    assert page.evaluate("window.__redraws") == []
    assert page.url.endswith(DASHBOARD)
