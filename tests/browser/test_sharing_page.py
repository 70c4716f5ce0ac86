"""The sharing page in a real browser: a member's role changed from their row, and the copy button
of a new public link, with the clipboard API and without it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DASHBOARD, log_in
from tracker.models import Membership

pytestmark = pytest.mark.browser

NO_CLIPBOARD_API = "Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });"


def make_a_link(page, live_server) -> str:
    page.goto(f"{live_server.url}{DASHBOARD}sharing/")
    page.get_by_label("Who it is for").fill("steering committee")
    page.get_by_role("button", name="Make a link").click()
    return page.locator("#new-link").inner_text()


def test_an_admin_changes_a_members_role_from_their_row(page, live_server, team, viewer):
    log_in(page, live_server, "owner")
    page.goto(f"{live_server.url}{DASHBOARD}sharing/")

    page.get_by_label("Role of viewer", exact=True).select_option("editor")
    page.get_by_role("button", name="Save the role of viewer").click()

    expect(page.get_by_role("status")).to_contain_text("viewer is now editor.")
    expect(page.get_by_label("Role of viewer", exact=True)).to_have_value("editor")
    assert Membership.objects.get(operation=team, user=viewer).role == "editor"


def test_the_copy_button_puts_the_new_link_on_the_clipboard(new_page, live_server, team):
    page = log_in(new_page(), live_server, "owner")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    link = make_a_link(page, live_server)
    assert re.fullmatch(rf"{re.escape(live_server.url)}/p/[\w-]+/", link)

    page.get_by_role("button", name="Copy link").click()

    expect(page.locator("#new-link-copied")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_without_the_clipboard_api_the_link_is_still_copied_or_selected(new_page, live_server, team):
    page = log_in(new_page(), live_server, "owner")
    page.add_init_script(NO_CLIPBOARD_API)
    link = make_a_link(page, live_server)
    assert page.evaluate("navigator.clipboard") is None

    page.get_by_role("button", name="Copy link").click()

    expect(page.locator("#new-link-copied")).to_have_text(re.compile(r"^(Copied\.|Selected: press Ctrl-C)"))
    assert page.evaluate("window.getSelection().toString().trim()") == link
