"""An open dashboard keeps its "… ago" words true (static/js/dashboard.js).

The server sends a section again only when what it shows changes, so without this a page left open
said "3 minutes ago" for as long as nothing changed. The words worked out in the browser must be the
ones the server says (Django's naturaltime), or a section swapped in would change its wording.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from playwright.sync_api import expect

from tests.browser.conftest import log_in, open_dashboard, wait_for_poll

pytestmark = pytest.mark.browser

REFRESHED_WITHIN_MS = 15_000  # the page works the words out again every 10 s
FOUR_WEEKS = 4 * 7 * 86_400
MOVE_BACK = "(time, at) => { time.setAttribute('datetime', at); time.textContent = 'as rendered'; }"

# Every boundary of naturaltime's words up to four weeks, and each side of it.
SECONDS = [0, 1, 2, 59, 60, 61, 119, 120, 3_599, 3_600, 3_601, 7_199, 7_200, 86_399, 86_400, 86_460, 90_000]
SECONDS += [172_800, 604_799, 604_800, 691_200, 694_800, 1_209_600, 1_213_200, FOUR_WEEKS - 1]


def server_words(seconds: int, now: dt.datetime) -> str:
    return str(naturaltime(now - dt.timedelta(seconds=seconds)))


def test_the_browser_says_what_the_server_says(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    now = dt.datetime.now(dt.UTC)

    browser = page.evaluate("seconds => seconds.map(window.snailTrail.agoWords)", SECONDS)

    assert browser == [server_words(seconds, now) for seconds in SECONDS]
    # From four weeks on naturaltime counts calendar months, and an instant to come is not "ago":
    # those words are left as the server said them.
    assert page.evaluate("seconds => seconds.map(window.snailTrail.agoWords)", [FOUR_WEEKS, -5]) == [None, None]


def test_an_open_page_keeps_its_relative_times_true(page, live_server, team):
    open_dashboard(log_in(page, live_server, "teammate"), live_server)
    times = page.locator("time[data-ago]")
    ages = [150, 3_000, 5_400, 30_000, 90_030, 700_000, 1_300_000, 40 * 86_400]
    assert times.count() >= len(ages)
    now = dt.datetime.now(dt.UTC)
    # Move the instants the page shows back in time, as if the page had been open that long.
    for index, seconds in enumerate(ages):
        at = (now - dt.timedelta(seconds=seconds)).isoformat()
        times.nth(index).evaluate(MOVE_BACK, at)

    for index, seconds in enumerate(ages[:-1]):
        expect(times.nth(index)).to_have_text(server_words(seconds, now), timeout=REFRESHED_WITHIN_MS)
    expect(times.nth(len(ages) - 1)).to_have_text("as rendered")  # six weeks: calendar months, left alone

    # The words are the page's own business: nothing changed on the server, so the polls stay 304s.
    assert wait_for_poll(page) == 304
