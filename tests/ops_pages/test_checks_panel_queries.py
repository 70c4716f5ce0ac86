"""The dashboard's "Live checks" panel says which item each check keeps true, in the same two
queries however many checks it has: the checks with the words of their items joined (and nothing
else of those items), then the latest flips."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from ops.models import Check, CheckStatus
from ops.panels import live_checks

pytestmark = pytest.mark.django_db


def drawn(operation) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        panel = live_checks(operation)
        html = render_to_string(panel.template, {"data": panel.context, "public": False})
    return html, len(queries)


def keeping(team, count: int) -> None:
    finding, task, blocker = team.findings.first(), team.tasks.first(), team.blockers.first()
    for number in range(count):
        item = (
            {"finding": finding},
            {"task": task},
            {"blocker": blocker},
        )[number % 3]
        Check.objects.create(
            operation=team, name=f"Check {number}", type="http_endpoint", params={}, status=CheckStatus.PASS, **item
        )


def test_the_panel_names_the_items_its_checks_keep_true(team):
    keeping(team, 3)

    html, _ = drawn(team)

    finding, task, blocker = team.findings.first(), team.tasks.first(), team.blockers.first()
    assert f'href="#task-{task.pk}"' in html and f'href="#blocker-{blocker.pk}"' in html
    assert f"{task.get_kind_display().lower()}:" in html
    for words in (finding.subject, task.title, blocker.title):
        assert words.split()[0] in html


def test_more_checks_and_linked_items_cost_no_more_queries(team):
    keeping(team, 3)
    _, few = drawn(team)
    keeping(team, 12)
    _, many = drawn(team)

    assert few == many == 2


def test_the_checks_are_read_without_joining_their_operation(team):
    """One operation's checks, in the order of their names: the model's default would join the
    operations table to sort by the operation's name first, on every read of the panel."""
    for name in ("Zeta", "Alpha", "Mu"):
        Check.objects.create(operation=team, name=name, type="http_endpoint", params={})

    with CaptureQueriesContext(connection) as queries:
        panel = live_checks(team)

    assert [check.name for check in panel.context["checks"]] == ["Alpha", "Mu", "Zeta"]
    assert "tracker_operation" not in queries[0]["sql"]


def test_when_each_check_last_looked_moves_on_in_an_open_page(team):
    """A relative time with its instant (`<time data-ago datetime>`): static/js/dashboard.js works
    its words out again while the page stays open, as it does for the tracker's own."""
    from django.utils import timezone

    Check.objects.create(
        operation=team, name="Looked", type="http_endpoint", params={}, last_run_at=timezone.now(), status="pass"
    )

    html, _ = drawn(team)

    assert re.search(r'<time data-ago datetime="[^"]+">now</time>', html)
