"""The dashboard's first screen in a real browser: what it shows without scrolling on a laptop and on a
phone, the contents list that stays in reach, and undoing a tick from the toast."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, open_dashboard
from tracker import services
from tracker.models import Task

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TITLE = "AWS Account Check"


def in_first_screen(page, selector: str) -> bool:
    """Whether the element's top is within the first viewport, with the page scrolled to the top."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_first_screen_says_where_we_are(new_page, live_server, team, teammate, viewport):
    services.task_set_done(task=Task.objects.get(title="Documentation"), done=True, actor=teammate)
    mobile = viewport == PHONE
    page = new_page(viewport=viewport, is_mobile=mobile, has_touch=mobile)
    open_dashboard(log_in(page, live_server, "viewer"), live_server)

    for selector in (
        "#status dt:text-is('Current phase') + dd",
        "[data-testid=stated-progress]",
        "[data-testid=ticked-progress]",
        "[data-testid=progress-why]",
        "[data-testid=summary-blockers]",
        "[data-testid=summary-checks]",
        "[data-testid=summary-forecast]",
        ".tile-changes li",
    ):
        assert in_first_screen(page, selector), f"{selector} is below the first screen at {viewport}"
    expect(page.locator(".tile-changes li").first).to_contain_text("teammate ticked the next step ‘Documentation’")
    expect(page.get_by_test_id("summary-forecast")).to_have_text(
        "Not enough history for a forecast yet: one progress change so far, and a date needs a day of them;"
        " at risk because of 1 open primary blocker."
    )


def test_the_contents_list_stays_in_reach_and_achievements_is_a_few_tabs_away(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)

    tabs = 0
    for tabs in range(1, 40):  # noqa: B007 - the count is the answer
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#achievements":
            break
    assert tabs <= 25, f"{tabs} tab stops before the link to Achievements"
    page.keyboard.press("Enter")

    expect(page.locator("#achievements-h")).to_be_in_viewport()
    contents = page.get_by_role("navigation", name="Sections of this page")
    expect(contents).to_be_in_viewport()  # sticky: still there, far down the page
    assert page.evaluate("window.scrollY") > 1000


def test_a_tick_can_be_undone_from_the_toast(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)

    page.get_by_role("button", name=f"Mark done: {TITLE}", exact=True).click()
    toast = page.locator("aside.toast")
    expect(toast).to_contain_text(f"You ticked ‘{TITLE}’")
    expect(toast).to_be_in_viewport()
    toast.get_by_role("button", name=f"Undo: reopen {TITLE}").click()

    expect(page.get_by_role("button", name=f"Mark done: {TITLE}", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    assert Task.objects.get(title=TITLE).done is False
    # The undo is itself a change, and can be undone in turn; or put away.
    expect(toast).to_contain_text(f"You reopened ‘{TITLE}’")
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_be_hidden()
