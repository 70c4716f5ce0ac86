"""The pages work under the Content Security Policy in a real browser: nothing is refused.

Chromium reports each refusal twice: a `securitypolicyviolation` event in the page and a console
error ("Refused to ..." or "... violates the following Content Security Policy directive ...").
Both are collected; the dashboard (plotly.js draws its charts), the login page and Swagger UI at
/api/docs/ must cause neither.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DASHBOARD, log_in, open_dashboard
from tracker import services

pytestmark = pytest.mark.browser

# Runs before any script of the page's own, in every document of the context.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || "the page"}:${event.lineNumber})`);
});
"""
CSP_CONSOLE = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


class Violations:
    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: CSP_CONSOLE.search(message.text) and self.console.append(message.text))

    def on_this_page(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations") + self.console

    def assert_none(self, what: str) -> None:
        self.page.wait_for_timeout(200)  # the events are dispatched asynchronously
        assert self.on_this_page() == [], what


@pytest.fixture
def violations(page) -> Violations:
    return Violations(page)


def test_the_watch_works_a_refused_inline_script_is_seen(page, live_server, violations):
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
    }""")

    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in line for line in violations.on_this_page())


def test_the_login_page_the_dashboard_and_its_charts_run_under_the_policy(page, live_server, team, violations):
    # A task in phase 2 gives that phase a burn-up of its own (phase 4's alone would be the operation's).
    services.task_create(operation=team, phase=team.phases.get(number=2), title="Late check", actor=None)
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    violations.assert_none("the login page")

    log_in(page, live_server, "owner")
    open_dashboard(page, live_server)  # waits for plotly's burn-up svg

    chart = page.locator("[data-chart=burnup]")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".scatterlayer .trace")).to_have_count(2)
    # plotly.js's own stylesheet came from static/css/plotly.css: its layers are stacked, not listed.
    assert chart.locator("svg.main-svg").first.evaluate("svg => getComputedStyle(svg).position") == "absolute"
    assert page.locator("style").count() == 0  # nothing was injected inline
    violations.assert_none("the dashboard")

    page.get_by_label("Phase", exact=True).select_option(index=0)  # redraws the phase burn-up
    expect(page.locator("[data-chart=phase-burnup] svg.main-svg").first).to_be_visible()
    violations.assert_none("the dashboard after a redraw")
    assert page.url.endswith(DASHBOARD)


def test_swagger_ui_runs_under_the_policy(page, live_server, team, violations):
    log_in(page, live_server, "owner")

    page.goto(f"{live_server.url}/api/docs/")

    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.locator(".swagger-ui .opblock-summary").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    violations.assert_none("Swagger UI")


def test_the_admins_periodic_task_form_runs_under_the_policy(page, live_server, superuser, violations):
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="0", hour="4")
    log_in(page, live_server, "admin")

    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    page.locator("#id_crontab").select_option(str(crontab.pk))

    # django-celery-beat's script (static/js/periodic-task-form.js here) says what the schedule means.
    expect(page.locator(".field-crontab .help")).to_contain_text(f"Translation: {crontab.human_readable}")
    violations.assert_none("the periodic task form")
