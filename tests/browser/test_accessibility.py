"""axe-core (axe-playwright-python) finds no serious or critical violation on the pages a team uses
most: the operation list, the dashboard (with its live checks and ML endpoints panels), the import
page and the sharing page, in the light and the dark theme, at laptop and phone width."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import DASHBOARD, log_in, open_dashboard
from tests.browser.test_phone_layout import PHONE, panels  # noqa: F401 - the panels fixture
from tracker import services

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    """Each serious or critical violation: its rule, its impact and where (a few of its nodes)."""
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            where = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {where}")
    return found


SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
SIZES = pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])


@SCHEMES
@SIZES
def test_the_dashboard_has_no_serious_violations(new_page, live_server, panels, scheme, viewport):  # noqa: F811
    page = new_page(viewport=viewport, color_scheme=scheme)
    open_dashboard(log_in(page, live_server, "owner"), live_server)
    expect(page.locator("[data-chart=ml-latency] svg.main-svg").first).to_be_visible()

    assert blocking_violations(page) == []


@SCHEMES
@pytest.mark.parametrize(
    "path",
    ["/", "/import/", f"{DASHBOARD}sharing/", "/workspaces/team/", f"{DASHBOARD}checks/"],
    ids=["home", "import", "sharing", "workspace", "checks"],
)
def test_the_other_pages_have_no_serious_violations(new_page, live_server, team, scheme, path):
    page = log_in(new_page(viewport=LAPTOP, color_scheme=scheme), live_server, "owner")
    page.goto(f"{live_server.url}{path}")

    assert blocking_violations(page) == []


def test_the_sharing_page_with_a_new_link_has_no_serious_violations(new_page, live_server, team):
    page = log_in(new_page(viewport=LAPTOP), live_server, "owner")
    page.goto(f"{live_server.url}{DASHBOARD}sharing/")
    page.get_by_label("Who it is for").fill("steering committee")
    page.get_by_role("button", name="Make a link").click()
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()

    assert blocking_violations(page) == []


def test_the_sharing_page_with_a_refused_role_has_no_serious_violations(new_page, live_server, team):
    page = log_in(new_page(viewport=LAPTOP), live_server, "owner")
    page.goto(f"{live_server.url}{DASHBOARD}sharing/")
    # What a tampered form posts: a role the server does not know.
    page.get_by_label("Role of viewer", exact=True).evaluate(
        "select => { select.options[select.selectedIndex].value = 'overlord'; }"
    )
    page.get_by_role("button", name="Save the role of viewer").click()
    expect(page.get_by_role("alert")).to_contain_text("Not a role")

    assert blocking_violations(page) == []


def test_a_public_links_page_has_no_serious_violations(new_page, live_server, team, owner):
    _link, token = services.public_link_create(operation=team, actor=owner, label="board")
    page = new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/p/{token}/")

    assert blocking_violations(page) == []
