"""The dashboard's first screen counts the operation's live checks ("n of m" not passing) from the
ops panel, not the tracker's check-backed items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ops.models import Check, CheckStatus
from ops.panels import live_checks
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def make(team, name: str, status: str, **fields) -> Check:
    return Check.objects.create(operation=team, name=name, type="http_endpoint", params={}, status=status, **fields)


def test_a_check_that_fails_errs_or_went_stale_is_not_passing(team):
    long_ago = timezone.now() - dt.timedelta(days=30)
    make(team, "Health", CheckStatus.PASS)
    make(team, "VPC DNS", CheckStatus.FAIL)
    make(team, "Route tables", CheckStatus.ERROR)
    make(team, "Old", CheckStatus.PASS, last_run_at=long_ago, last_good_at=long_ago, interval=dt.timedelta(minutes=5))

    tally = live_checks(team).tally

    assert (tally.noun, tally.failing, tally.total) == ("checks", 3, 4)


def test_an_operation_without_checks_has_no_panel_and_no_tally(team):
    assert live_checks(team) is None


def test_the_first_screen_says_the_panels_count(client, team, teammate):
    make(team, "Health", CheckStatus.PASS)
    make(team, "VPC DNS", CheckStatus.FAIL)

    page = logged_in(client, teammate).get(reverse("tracker:operation", args=[team.slug]))

    assert page.status_code == 200
    assert "1 of 2" in page.content.decode()


def test_checks_that_have_not_run_yet_are_not_called_passing(client, team, teammate):
    make(team, "Health", CheckStatus.PASS)
    make(team, "VPC DNS", CheckStatus.PENDING)

    assert live_checks(team).tally.pending == 1
    page = logged_in(client, teammate).get(reverse("tracker:operation", args=[team.slug])).content.decode()

    assert "1 of 2</strong> not run yet" in page
    assert "passing" not in page.split('data-testid="summary-checks"')[1].split("</div>")[0]
