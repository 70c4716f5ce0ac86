"""Real-browser fixtures: headless Debian Chromium driven by Playwright's sync API against `live_server`.

Chromium is the system's (/usr/bin/chromium); Playwright never downloads one. Without it the
browser tests skip with the reason, unless REQUIRE_SERVICES=1, where they fail instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import REQUIRE_SERVICES

# Playwright's sync API keeps an asyncio event loop running in this (the test) thread for as long
# as the browser is open, and Django refuses ORM calls from a thread with a running loop
# (SynchronousOnlyOperation). Nothing here is async: the tests, fixtures and services run
# synchronously in this thread and the live server answers from its own threads. Set at import
# time, not per test, because the browser is session-scoped: its loop stays running through any
# tests that run after these in the same session.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous, as they only matter when something is wrong: on a busy 2-CPU machine the first request
# warms Django up (~2 s) and each fresh context evaluates the 1.2 MB plotly.js before "load".
TIMEOUT_MS = 10_000  # actions and expect()
NAVIGATION_TIMEOUT_MS = 20_000
DASHBOARD = "/operations/operation-snail-trail/"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (Chromium) against the live server")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but Chromium is not installed at {CHROMIUM}")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _track_requests(page) -> set:
    in_flight: set = set()
    page.on("request", lambda request: in_flight.add(request))
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    return in_flight


def _settle(page, in_flight: set) -> None:
    """Let the page send nothing more and wait (briefly) for what the server is still answering.

    The dashboard polls every 2 s; on SQLite the live server shares the test's in-memory database
    connection, so a poll still running while the test's database is flushed could interleave.
    """
    page.route("**/*", lambda route: route.abort())
    for _ in range(40):  # at most ~2 s; a poll takes milliseconds
        if not in_flight:
            break
        page.wait_for_timeout(50)


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context: `new_page(viewport=..., color_scheme=...)`."""
    opened = []

    def make(**context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        opened.append((context, page, _track_requests(page)))
        return page

    yield make
    for context, page, in_flight in opened:
        if not page.is_closed():
            _settle(page, in_flight)
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def log_in(page, live_server, username: str):
    """Log in through the login form (password `<username>-password`) and land on the operation list."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(f"{username}-password")
    page.locator("button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def open_dashboard(page, live_server):
    """Open the example operation's dashboard and wait until its scripts have drawn the burn-up."""
    page.goto(f"{live_server.url}{DASHBOARD}")
    expect(page.locator("[data-chart=burnup] svg.main-svg").first).to_be_visible()
    return page


POLL_WAIT_MS = 8000  # the dashboard asks every 2 s; this leaves room for a slow machine


def polls_handled(page) -> int:
    """How many live-update polls the dashboard has handled (static/js/dashboard.js counts them)."""
    return page.evaluate("Number(document.querySelector('[data-live-url]').dataset.livePolls || 0)")


def wait_for_poll(page) -> int:
    """Wait for the dashboard's next live-update poll to be answered and handled (its news, if any,
    swapped in). Returns the poll's status: 304 when nothing changed, 200 with news.
    """
    before = polls_handled(page)
    with page.expect_response(lambda r: r.request.resource_type == "fetch", timeout=POLL_WAIT_MS) as info:
        page.wait_for_function(
            "n => Number(document.querySelector('[data-live-url]').dataset.livePolls || 0) > n",
            arg=before,
            timeout=POLL_WAIT_MS,
        )
    return info.value.status
