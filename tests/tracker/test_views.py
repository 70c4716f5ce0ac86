"""Reading pages: who sees which operation, the dashboard's content, downloads and public links."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from markdown_it import MarkdownIt

from tests.conftest import EXAMPLE, logged_in
from tracker import services
from tracker.forms import AchievementForm, BlockerForm, CurrentPhaseForm, DecisionForm, FindingForm
from tracker.lib.samples import large_document
from tracker.models import Phase, Task
from tracker.templatetags.tracker import CACHED_TEXT_CHARS, md

pytestmark = pytest.mark.django_db


def dashboard_url(operation) -> str:
    return reverse("tracker:operation", args=[operation.slug])


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    for url in (
        reverse("tracker:operation-list"),
        dashboard_url(team),
        reverse("tracker:export-json", args=[team.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_login_page_logs_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "owner-password"})
    assert response.status_code == 302

    assert client.get(reverse("tracker:operation-list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("tracker:operation-list")).status_code == 302


def test_the_list_shows_only_the_operations_a_user_belongs_to(client, team, outsider, owner, elsewhere):
    services.operation_create(workspace=elsewhere, name="Operation Other", actor=outsider)

    owners_page = logged_in(client, owner).get(reverse("tracker:operation-list")).content.decode()
    assert "Operation Snail Trail" in owners_page and "Operation Other" not in owners_page
    outsiders_page = logged_in(client, outsider).get(reverse("tracker:operation-list")).content.decode()
    assert "Operation Other" in outsiders_page and "Operation Snail Trail" not in outsiders_page


def test_the_operations_address_without_one_leads_to_the_list(client, team, owner):
    """/operations/ is where a person who trims a dashboard's address expects the list."""
    response = logged_in(client, owner).get("/operations/", follow=True)

    assert response.redirect_chain == [(reverse("tracker:operation-list"), 302)]
    assert "Operation Snail Trail" in response.content.decode()


def test_a_superuser_sees_every_operation(client, team, superuser):
    page = logged_in(client, superuser).get(reverse("tracker:operation-list")).content.decode()

    assert "Operation Snail Trail" in page


def test_the_list_shows_status_progress_and_open_blockers(client, team, viewer, django_assert_max_num_queries):
    client = logged_in(client, viewer)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("tracker:operation-list"))

    page = response.content.decode()
    assert "In progress" in page and "90%" in page
    assert '<strong class="danger">1</strong>' in page


def test_an_outsider_gets_a_404_for_everything_of_an_operation(client, team, outsider):
    client = logged_in(client, outsider)

    for name in ("tracker:operation", "tracker:export-markdown", "tracker:export-json", "tracker:sharing"):
        assert client.get(reverse(name, args=[team.slug])).status_code == 404


def test_the_dashboard_shows_the_tracker_in_document_order(client, team, viewer):
    page = logged_in(client, viewer).get(dashboard_url(team)).content.decode()

    order = [
        "VPC Network Configuration",
        "Phase 1: Basic System Operational",
        "Completed tasks",
        "Current challenge",
        "Investigation results",
        "Pending tasks",
        "Decisions",
        "Achievements",
        "Next steps",
        "completion criteria",
        "Sometimes the biggest challenges",
    ]
    # After the summary and the contents list, which name some of these first.
    rest = page.index("</nav>", page.index('aria-label="Sections of this page"'))
    positions = [page.index(text) if i == 0 else page.index(text, rest) for i, text in enumerate(order)]
    assert positions == sorted(positions)
    assert "(tasks: 38%)" in page  # stated 90%, its tasks say 38%
    assert "2 hours 41 minutes" in page
    assert "· import</span>" in page  # the items say the import wrote them


def test_a_viewer_sees_no_editing_controls(client, team, viewer):
    page = logged_in(client, viewer).get(dashboard_url(team)).content.decode()

    assert "Mark done" not in page and "Raise a blocker" not in page and "Resolve" not in page


def test_an_editor_sees_the_editing_controls(client, team, teammate):
    page = logged_in(client, teammate).get(dashboard_url(team)).content.decode()

    assert "Mark done: AWS Account Check" in page and "Raise a blocker" in page and "Resolve</button>" in page
    assert "People and sharing" not in page


def test_every_item_says_when_and_by_whom_it_last_changed(client, team, teammate):
    task = Task.objects.get(title="AWS Account Check")
    services.task_set_done(task=task, done=True, actor=teammate)

    page = logged_in(client, teammate).get(dashboard_url(team)).content.decode()

    item = page[page.index(f'id="task-{task.pk}"') :]
    assert "· teammate" in item[: item.index("</li>")]


def test_tracker_text_is_rendered_as_markdown_never_as_html(client, team, viewer):
    task = Task.objects.get(title="AWS Account Check")
    services.item_update(item=task, actor=None, detail="Run `aws sts get-caller-identity` <script>alert(1)</script>")

    page = logged_in(client, viewer).get(dashboard_url(team)).content.decode()

    assert "<code>aws sts get-caller-identity</code>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_a_cached_text_renders_as_it_did_and_an_edited_one_anew(client, team, viewer):
    client = logged_in(client, viewer)
    task = Task.objects.get(title="AWS Account Check")
    for detail in ("Run `aws` <script>alert(1)</script>", "Run **now** <img src=x onerror=alert(1)>"):
        services.item_update(item=task, actor=None, detail=detail)
        pages = [client.get(dashboard_url(team)).content.decode() for _ in range(2)]  # the second from the cache

        assert "<img" not in pages[1] and "<script>alert" not in pages[1]
    assert "<strong>now</strong> &lt;img src=x onerror=alert(1)&gt;" in pages[1]
    assert "<code>aws</code>" not in pages[1]


def test_the_markdown_filter_renders_kept_and_long_texts_alike():
    short = "a `b` <i>c</i> [d](javascript:alert(1)) "
    long = short * (CACHED_TEXT_CHARS // len(short) + 1)  # too long to be kept: rendered every time
    assert len(short) <= CACHED_TEXT_CHARS < len(long)

    assert md(short) == md(short) == "a <code>b</code> &lt;i&gt;c&lt;/i&gt; [d](javascript:alert(1)) "
    assert md(long) == md(long) == MarkdownIt("commonmark", {"html": False}).renderInline(long)
    assert "<i>" not in md(long) and md(None) == md("") == ""


def test_the_add_forms_are_what_the_forms_render_and_follow_the_phases(client, team, teammate):
    client = logged_in(client, teammate)
    current = {"phase": team.current_phase_id}
    phase3 = Phase.objects.get(operation=team, number=3)

    page = client.get(dashboard_url(team)).content.decode()
    # The dashboard's forms come from a per-process cache, with the phases it has loaded: the same
    # HTML as the forms render from their own queries.
    for form in (
        BlockerForm(auto_id="blocker-%s"),
        FindingForm(operation=team, initial=current, auto_id="finding-%s"),
        DecisionForm(auto_id="decision-%s"),
        AchievementForm(auto_id="achievement-%s"),
    ):
        assert form.as_div() in page
    picker = CurrentPhaseForm(operation=team, initial=current, auto_id="current-%s")["phase"]
    assert f"{picker.label_tag()} {picker}" in page

    # A renamed phase and a new current phase show at once: they are part of the cache's key.
    services.phase_update(phase=phase3, actor=None, title="Renamed Phase")
    services.operation_set_current_phase(operation=team, phase=phase3, actor=None)
    page = client.get(dashboard_url(team)).content.decode()

    assert page.count(f'<option value="{phase3.pk}" selected>Phase 3: Renamed Phase</option>') == 2  # both forms
    assert page.count(f'<option value="{current["phase"]}" selected>') == 0


def test_it_downloads_the_markdown_and_the_json(client, team, viewer):
    client = logged_in(client, viewer)
    markdown = client.get(reverse("tracker:export-markdown", args=[team.slug]))
    as_json = client.get(reverse("tracker:export-json", args=[team.slug]))

    assert markdown.content.decode() == EXAMPLE.read_text()
    assert markdown["Content-Disposition"] == 'attachment; filename="operation-snail-trail.md"'
    assert json.loads(as_json.content)["name"] == "Operation Snail Trail"


def test_the_dashboard_takes_the_same_queries_for_a_small_and_a_large_operation(client, superuser, workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tracker.importers import import_document

    client = logged_in(client, superuser)
    counts = {}
    for size, text in (("small", EXAMPLE.read_text()), ("large", large_document(phases=50, tasks=5000))):
        operation = import_document(data=text.encode(), actor=None, workspace=workspace)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(dashboard_url(operation))
        assert response.status_code == 200
        counts[size] = len(queries)

    # The two phase pickers list the phases the page has loaded already: no query of their own.
    assert counts["small"] == counts["large"] <= 17, counts
