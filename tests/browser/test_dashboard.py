"""The dashboard in a real browser: reading, ticking, resolving, live updates, roles, keyboard, phones."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DASHBOARD, POLL_WAIT_MS, log_in, open_dashboard, wait_for_poll
from tracker import services
from tracker.models import Task

pytestmark = pytest.mark.browser

PHASE_4 = "Phase 4: Enhanced ML Service Deployment"
PRIMARY_BLOCKER = "VPC Network Configuration"


def burnup_done(page) -> list[int]:
    """The 'Done' series of the operation's burn-up, as the page's chart data has it."""
    return page.evaluate(
        """() => JSON.parse(document.getElementById("chart-data").textContent)
                 .burnup.data.find((trace) => trace.name === "Done").y"""
    )


def test_a_viewer_finds_the_operation_and_opens_its_dashboard(page, live_server, team):
    log_in(page, live_server, "viewer")

    page.get_by_role("link", name="Operation Snail Trail").click()

    expect(page).to_have_url(f"{live_server.url}{DASHBOARD}")
    expect(page.locator("#current-h")).to_contain_text(PHASE_4)
    expect(page.locator("#phase-4")).to_contain_text(PHASE_4)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("1 primary blocker open")
    expect(banner.get_by_role("link", name=PRIMARY_BLOCKER)).to_be_visible()


def test_an_editor_ticks_a_task_and_progress_and_burnup_follow(page, live_server, team):
    services.item_update(item=team.phases.get(number=4), actor=None, stated_progress=None)  # derive from tasks
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    progress = page.get_by_test_id("phase-4-progress")
    expect(progress).to_have_text("38%")
    assert burnup_done(page)[-1] == 8

    page.get_by_role("button", name="Mark done: AWS Account Check", exact=True).click()

    expect(progress).to_have_text("43%")
    expect(page.get_by_role("button", name="Reopen: AWS Account Check", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    assert burnup_done(page)[-1] == 9
    chart = page.locator("[data-chart=burnup]")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".scatterlayer .trace")).to_have_count(2)


def test_an_editor_resolves_the_primary_blocker(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    wait_for_poll(page)
    blocker = page.locator("article.blocker").filter(has_text=PRIMARY_BLOCKER)

    blocker.get_by_label("How it was resolved").fill("Moved the service to a fresh VPC")
    blocker.get_by_role("button", name="Resolve").click()

    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("article.blocker").filter(has_text=PRIMARY_BLOCKER)).to_have_count(0)
    resolved = page.locator("#blockers h3:text-is('Resolved') + ul > li").filter(has_text=PRIMARY_BLOCKER)
    expect(resolved).to_contain_text("Moved the service to a fresh VPC")
    expect(resolved).to_contain_text("· teammate")


def test_a_change_by_someone_else_appears_without_a_reload(page, live_server, team, teammate):
    open_dashboard(log_in(page, live_server, "viewer"), live_server)
    task = Task.objects.get(title="AWS Account Check")
    item = page.locator(f"#task-{task.pk}")
    expect(item).to_contain_text("to do:")
    page.evaluate("window.__marker = 1")
    # Change the data just after a poll was answered: on SQLite the live server shares this thread's
    # database connection, and the next poll is then 2 s away.
    wait_for_poll(page)

    services.task_set_done(task=task, done=True, actor=teammate)
    changed_at = time.monotonic()

    expect(item.locator(".meta")).to_have_text(re.compile(r"· teammate$"), timeout=POLL_WAIT_MS)
    assert time.monotonic() - changed_at <= 5
    expect(item).to_contain_text("✅")
    expect(item).to_contain_text("done:")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded, not updated in place"


def test_a_viewer_can_neither_see_nor_use_the_editing_controls(page, live_server, team):
    open_dashboard(log_in(page, live_server, "viewer"), live_server)
    task = Task.objects.get(title="AWS Account Check")
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("to do:")
    expect(page.get_by_role("button", name=re.compile(r"^Mark done"))).to_have_count(0)
    expect(page.get_by_text("Raise a blocker")).to_have_count(0)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

    response = page.request.post(
        f"{live_server.url}/operations/{team.slug}/tasks/{task.pk}/toggle/",
        form={"done": "1"},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )

    assert response.status == 403
    assert "This needs the editor role; you are a viewer." in response.text()  # the role check, not CSRF
    page.reload()
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("to do:")


def test_a_keyboard_user_tabs_to_the_first_task_and_ticks_it(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    first = page.get_by_role("button", name=re.compile(r"^Mark done: ")).first
    label = first.get_attribute("aria-label")
    title = label.removeprefix("Mark done: ")
    wait_for_poll(page)

    for _ in range(100):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
        if focused and focused.startswith("Mark done"):
            break
    assert focused == label
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name=f"Reopen: {title}", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("status")).to_contain_text(f"Done: {title}")


def test_a_phone_in_dark_mode_has_no_horizontal_scroll(new_page, live_server, team):
    page = new_page(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True, has_touch=True)
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")

    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")

    assert widths["scroll"] <= widths["inner"] + 1, widths


def test_an_open_form_keeps_its_typed_text_while_nothing_changes(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    form = page.locator("details").filter(has_text="Raise a blocker")
    form.locator("summary").click()
    form.locator("input[name=title]").fill("Half-written blocker")

    status = wait_for_poll(page)

    # The page has settled (see wait_for_poll), so look once rather than wait for a change back.
    assert form.evaluate("details => details.open"), f"the form closed (poll answered {status})"
    assert form.locator("input[name=title]").input_value() == "Half-written blocker"
