"""On a phone (390 x 844) nothing is cut at the screen's edge: the page never scrolls sideways, a
table either fits (as cards) or scrolls inside its own box, which shades the edge that hides more,
and the charts keep their titles and axes inside their boxes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mlservice.metrics import VersionStats
from mlservice.panels import ModelRow, VersionRow, _latency_figure
from ops.models import Check
from tests.browser.conftest import DASHBOARD, log_in, open_dashboard
from tests.conftest import join
from tracker import dashboard, services
from tracker.dashboard import Panel

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Every way the page could be wider than the screen, and every table wider than its box with no
# scrolling box around it (`.scroll`: overflow-x auto and the shading cue, static/css/app.css).
OVERFLOWS = """() => {
  const problems = [];
  const width = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  // Visually hidden (clipped to nothing) for screen readers only: it takes no room on screen.
  const hidden = (el) => {
    for (let at = el; at; at = at.parentElement) if (getComputedStyle(at).clipPath !== "none") return true;
    return false;
  };
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  for (const table of document.querySelectorAll("table")) {
    const box = table.parentElement;
    if (table.offsetWidth <= box.clientWidth + 1) continue;
    const scroller = table.closest(".scroll");
    if (!scroller || getComputedStyle(scroller).overflowX !== "auto") {
      problems.push(`${name(table)} is ${table.offsetWidth}px in a ${box.clientWidth}px box that does not scroll`);
    } else if (!getComputedStyle(scroller).backgroundImage.includes("gradient")) {
      problems.push(`${name(table)} scrolls in a box with no cue`);
    } else if (scroller.tabIndex < 0 && !scroller.querySelector("a[href], button, input, select, textarea")) {
      problems.push(`${name(table)} scrolls in a box the keyboard cannot reach`);
    }
  }
  // A box that scrolls sideways shows that it does: a shade (a gradient background) or a fade (a mask).
  const cued = (box) => {
    const style = getComputedStyle(box);
    const mask = style.maskImage || style.webkitMaskImage || "none";
    return style.backgroundImage.includes("gradient") || mask !== "none";
  };
  const scrollerOf = (el) => {
    for (let at = el.parentElement; at && at !== document.body; at = at.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(at).overflowX)) return at;
    }
    return null;
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".chart, datalist, option")) continue;  // charts: CLIPPED_CHART_TEXT
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height || rect.right <= width + 1 || hidden(el)) continue;
    const scroller = scrollerOf(el);
    if (!scroller) {
      problems.push(`${name(el)} reaches ${Math.round(rect.right)}px`);
    } else if (!cued(scroller)) {
      problems.push(`${name(el)} is in ${name(scroller)}, which scrolls sideways with no cue`);
    }
  }
  return problems;
}"""

# A chart's title and axis titles lie inside the chart's box (plotly clips what does not).
CLIPPED_CHART_TEXT = """() => {
  const problems = [];
  for (const chart of document.querySelectorAll("[data-chart]")) {
    const box = chart.getBoundingClientRect();
    for (const text of chart.querySelectorAll(".gtitle, .xtitle, .ytitle")) {
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1) {
        const at = [r.left, r.right, box.left, box.right].map(Math.round);
        problems.push(`${chart.dataset.chart}: "${text.textContent}" is cut (${at[0]}-${at[1]} in ${at[2]}-${at[3]})`);
      }
    }
  }
  return problems;
}"""


@pytest.fixture
def panels(team, monkeypatch):
    """The dashboard's live checks, as a check run leaves them, and an ML endpoints panel with figures."""
    now = timezone.now()
    finding = team.findings.first()
    for number, (status, observed) in enumerate(
        [
            ("pass", {"EnableDnsSupport": True, "EnableDnsHostnames": True}),
            ("fail", {"routes": ["0.0.0.0/0 -> igw-0123456789abcdef0", "10.0.0.0/16 -> local"]}),
            ("error", None),
        ]
    ):
        Check.objects.create(
            operation=team,
            name=f"Subnet subnet-0123456789abcdef{number} routes its traffic through the internet gateway",
            type="subnet_internet_route",
            region="us-east-1",
            status=status,
            observed=observed,
            message="" if observed else "AccessDenied: ec2:DescribeRouteTables (retried in 60 s)",
            last_run_at=now - dt.timedelta(seconds=20),
            last_good_at=now - dt.timedelta(seconds=20),
            finding=finding,
        )
    stats = VersionStats(buckets=[(0.005, 40.0), (0.01, 90.0), (0.025, 99.0), (float("inf"), 100.0)], requests=100)
    rows = [
        ModelRow(
            "iris",
            "2",
            served_version="2",
            versions=[VersionRow("1", stats, False), VersionRow("2", stats, True)],
        )
    ]

    def ml_panel(operation):
        return Panel(
            id="ml-endpoints",
            title="🧠 ML endpoints",
            template="mlservice/endpoints_panel.html",
            context={"models": rows, "has_chart": True, "alias": "production", "admins": frozenset()},
            figures={"ml-latency": _latency_figure(rows)},
        )

    providers = [provider for provider in dashboard.panel_providers if provider.__name__ != "ml_endpoints"]
    monkeypatch.setattr(dashboard, "panel_providers", [*providers, ml_panel])
    return team


def assert_nothing_cut(page) -> None:
    assert page.evaluate(OVERFLOWS) == []


def test_the_dashboard_with_its_panels_fits_a_phone(new_page, live_server, panels):
    page = new_page(viewport=PHONE)
    open_dashboard(log_in(page, live_server, "owner"), live_server)
    expect(page.locator("table.checks")).to_be_visible()
    expect(page.locator("[data-chart=ml-latency] .gtitle")).to_be_visible()

    assert_nothing_cut(page)
    assert page.evaluate(CLIPPED_CHART_TEXT) == []


def test_the_latency_chart_keeps_its_title_and_axis_on_a_phone(new_page, live_server, panels):
    page = new_page(viewport=PHONE)
    open_dashboard(log_in(page, live_server, "owner"), live_server)
    chart = page.locator("[data-chart=ml-latency]")
    chart.scroll_into_view_if_needed()

    expect(chart.locator(".gtitle")).to_contain_text("Inference latency")
    expect(chart.locator(".ytitle")).to_have_text("% of requests")
    assert page.evaluate(CLIPPED_CHART_TEXT) == []


@pytest.mark.parametrize(
    "path",
    ["/", "/import/", "/workspaces/", "/workspaces/team/", f"{DASHBOARD}sharing/"],
    ids=["home", "import", "workspaces", "workspace", "sharing"],
)
def test_the_other_pages_fit_a_phone(new_page, live_server, team, path):
    page = log_in(new_page(viewport=PHONE), live_server, "owner")
    page.goto(f"{live_server.url}{path}")

    assert_nothing_cut(page)


CHECK_PAGES = ["checks/", "checks/add/", "checks/{pk}/", "checks/{pk}/edit/", "checks/diagnose-ecs/"]


@pytest.mark.parametrize("path", CHECK_PAGES)
def test_the_live_checks_pages_fit_a_phone(new_page, live_server, panels, path):
    page = log_in(new_page(viewport=PHONE), live_server, "owner")
    page.goto(f"{live_server.url}{DASHBOARD}{path.format(pk=Check.objects.first().pk)}")

    assert_nothing_cut(page)


def test_the_workspace_page_with_its_admins_forms_fits_a_phone(new_page, live_server, team, owner):
    join(team.workspace, owner, role="admin")
    page = log_in(new_page(viewport=PHONE), live_server, "owner")
    page.goto(f"{live_server.url}/workspaces/team/")
    expect(page.get_by_label("Role of teammate")).to_be_visible()

    assert_nothing_cut(page)


def test_the_home_pages_operations_are_cards_on_a_phone(new_page, live_server, team):
    page = log_in(new_page(viewport=PHONE), live_server, "owner")

    row = page.locator("table.operations tbody tr").first
    expect(row).to_have_css("display", "block")
    # each value under its column's name
    labels = row.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels == ['"Status"', '"Current phase"', '"Progress"', '"Open blockers"']


def test_a_public_links_page_fits_a_phone_and_says_it_is_a_shared_view(new_page, live_server, team, owner):
    _link, token = services.public_link_create(operation=team, actor=owner, label="board")
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/p/{token}/")

    expect(page.get_by_role("note")).to_contain_text("Shared view")
    assert_nothing_cut(page)
