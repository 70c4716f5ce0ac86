"""The REST API's write side: each change goes through the services (so it is logged), bad input is
a 400 in the one error shape that changes nothing, and lists filter and paginate."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import ROOT, join
from tracker import services
from tracker.models import ActivityEntry, Blocker, Operation, Phase, Task

pytestmark = pytest.mark.django_db

BAD = ROOT / "tests" / "fixtures" / "documents" / "bad"


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def editor_api(team, teammate):
    return client_for(teammate)


@pytest.fixture
def admin_api(team, owner):
    return client_for(owner)


def url(team, path: str = "") -> str:
    return f"/api/operations/{team.slug}/{path}"


def criterion(team) -> Task:
    """An open completion criterion of the current phase (4)."""
    return Task.objects.filter(operation=team, kind=Task.Kind.CRITERION, phase__number=4, done=False).first()


# --- tasks --------------------------------------------------------------------------------------


def test_ticking_a_criterion_stamps_it_logs_it_and_moves_progress(team, editor_api, teammate):
    task = criterion(team)
    done_before = editor_api.get(url(team, "phases/4/")).json()["tasks_done"]

    response = editor_api.patch(url(team, f"tasks/{task.pk}/"), {"done": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["done"] is True and body["done_at"] and body["updated_by"] == "teammate"
    entry = ActivityEntry.objects.filter(operation=team).first()
    assert (entry.actor, entry.action, entry.changes["done"]) == (teammate, "updated", [False, True])
    assert editor_api.get(url(team, "phases/4/")).json()["tasks_done"] == done_before + 1


def test_reopening_a_task_clears_done_at(team, editor_api):
    task = Task.objects.filter(operation=team, done=True).first()

    body = editor_api.patch(url(team, f"tasks/{task.pk}/"), {"done": False}, format="json").json()

    assert (body["done"], body["done_at"]) == (False, None)


def test_lists_filter_by_kind_phase_and_done(team, editor_api):
    body = editor_api.get(url(team, "tasks/"), {"kind": "criterion", "phase": 4, "done": "false"}).json()

    expected = Task.objects.filter(operation=team, kind="criterion", phase__number=4, done=False).count()
    assert body["count"] == expected > 0
    assert {(row["kind"], row["phase"], row["done"]) for row in body["results"]} == {("criterion", 4, False)}


def test_a_task_needs_a_phase_but_a_next_step_does_not(team, editor_api):
    before = Task.objects.count()

    refused = editor_api.post(url(team, "tasks/"), {"title": "Orphan", "kind": "task"}, format="json")
    accepted = editor_api.post(url(team, "tasks/"), {"title": "Call AWS support", "kind": "next_step"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Some fields are not valid.",
        "fields": {"phase": "Tasks and completion criteria belong to a phase."},
    }
    assert accepted.status_code == 201 and accepted.json()["phase"] is None
    assert Task.objects.count() == before + 1


def test_a_phase_of_another_operation_is_not_a_valid_phase(team, editor_api, teammate):
    other = services.operation_create(workspace=team.workspace, name="Other", actor=teammate)
    services.phase_create(operation=other, number=9, title="Elsewhere", actor=teammate)

    response = editor_api.post(url(team, "tasks/"), {"title": "x", "phase": 9}, format="json")

    assert response.status_code == 400 and "phase" in response.json()["fields"]


def test_deleting_a_task_logs_it(team, editor_api):
    task = Task.objects.filter(operation=team).first()

    assert editor_api.delete(url(team, f"tasks/{task.pk}/")).status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()
    assert ActivityEntry.objects.filter(operation=team, action="deleted", subject_id=task.pk).exists()


def test_an_item_of_another_operation_is_a_404_even_by_id(team, editor_api, teammate):
    other = services.operation_create(workspace=team.workspace, name="Other", actor=teammate)
    step = services.task_create(operation=other, title="Theirs", kind="next_step", actor=teammate)

    assert editor_api.patch(url(team, f"tasks/{step.pk}/"), {"done": True}, format="json").status_code == 404
    assert Task.objects.get(pk=step.pk).done is False


# --- blockers -----------------------------------------------------------------------------------


def test_open_then_resolve_then_reopen_a_blocker(team, editor_api):
    opened = editor_api.post(
        url(team, "blockers/"), {"title": "NAT gateway missing", "severity": "secondary"}, format="json"
    )
    assert opened.status_code == 201
    blocker = opened.json()
    assert (blocker["state"], blocker["resolved_at"]) == ("open", None) and blocker["opened_at"]

    resolved = editor_api.post(url(team, f"blockers/{blocker['id']}/resolve/"), {"status_text": "Added"}, format="json")
    assert resolved.status_code == 200
    assert (resolved.json()["state"], resolved.json()["status_text"]) == ("resolved", "Added")
    assert [b["title"] for b in editor_api.get(url(team, "blockers/"), {"state": "open"}).json()["results"]] == [
        "VPC Network Configuration"
    ]

    reopened = editor_api.post(url(team, f"blockers/{blocker['id']}/reopen/"))
    assert (reopened.status_code, reopened.json()["state"]) == (200, "open")


def test_the_state_of_a_blocker_moves_only_through_resolve_and_reopen(team, editor_api):
    blocker = Blocker.objects.get(operation=team)

    response = editor_api.patch(url(team, f"blockers/{blocker.pk}/"), {"state": "resolved"}, format="json")

    assert response.status_code == 400  # a read-only field is refused, not ignored: the change would not happen
    assert response.json()["fields"] == {"state": "This field is read-only."}
    blocker.refresh_from_db()
    assert blocker.is_open


# --- phases and the operation -------------------------------------------------------------------


def test_completing_a_phase_stamps_its_times(team, editor_api):
    body = editor_api.patch(url(team, "phases/4/"), {"status": "complete"}, format="json").json()

    assert body["status"] == "complete" and body["started_at"] and body["finished_at"]


def test_a_duplicate_phase_number_is_a_400_and_nothing_is_written(team, editor_api):
    response = editor_api.post(url(team, "phases/"), {"number": 4, "title": "Again"}, format="json")

    assert response.status_code == 400 and "already exists" in response.json()["error"]
    assert Phase.objects.filter(operation=team).count() == 4


def test_create_an_operation_and_become_its_admin(outsider, elsewhere):
    api = client_for(outsider)

    response = api.post("/api/operations/", {"name": "Operation Canary", "status": "in_progress"}, format="json")

    assert response.status_code == 201
    assert response.json()["slug"] == "operation-canary" and response.json()["role"] == "admin"
    assert response.json()["workspace"] == elsewhere.slug


def test_move_the_current_phase_by_number(team, editor_api):
    body = editor_api.patch(url(team), {"current_phase": 3}, format="json").json()

    assert body["current_phase"] == 3


def test_only_an_admin_deletes_an_operation(team, editor_api, admin_api):
    assert editor_api.delete(url(team)).status_code == 403
    assert admin_api.delete(url(team)).status_code == 204
    assert not Operation.objects.filter(pk=team.pk).exists()


def test_operations_filter_by_status_open_blockers_and_change_time(team, viewer):
    quiet = services.operation_create(workspace=team.workspace, name="Quiet", actor=None, status="complete")
    services.membership_set(operation=quiet, user=viewer, role="viewer", actor=None)
    ActivityEntry.objects.filter(operation=quiet).update(at="2020-01-01T00:00:00Z")
    api = client_for(viewer)

    def slugs(**query):
        return [row["slug"] for row in api.get("/api/operations/", query).json()["results"]]

    assert slugs(status="complete") == ["quiet"]
    assert slugs(has_open_blockers="true") == [team.slug]
    assert slugs(has_open_blockers="false") == ["quiet"]
    assert slugs(changed_since="2024-01-01T00:00:00Z") == [team.slug]


# --- members -------------------------------------------------------------------------------------


def test_an_admin_adds_changes_and_removes_a_member(team, admin_api, outsider):
    join(team.workspace, outsider)
    added = admin_api.post(url(team, "members/"), {"username": "outsider", "role": "editor"}, format="json")
    changed = admin_api.patch(url(team, "members/outsider/"), {"role": "viewer"}, format="json")

    assert (added.status_code, added.json()["role"]) == (201, "editor")
    assert (changed.status_code, changed.json()["role"]) == (200, "viewer")
    assert admin_api.delete(url(team, "members/outsider/")).status_code == 204
    assert client_for(outsider).get(url(team)).status_code == 404


def test_an_unknown_user_cannot_be_added(team, admin_api, outsider):
    ghost = admin_api.post(url(team, "members/"), {"username": "ghost", "role": "editor"}, format="json")
    elsewhere = admin_api.post(url(team, "members/"), {"username": "outsider", "role": "editor"}, format="json")

    assert ghost.status_code == elsewhere.status_code == 400
    # Someone of another workspace is answered like a name nobody has.
    assert (
        ghost.json()["fields"]
        == elsewhere.json()["fields"]
        == {"username": "No member of this workspace has that name."}
    )


# --- the activity log ------------------------------------------------------------------------------


def test_the_activity_log_lists_changes_newest_first_and_filters_by_time(team, editor_api):
    task = criterion(team)
    editor_api.patch(url(team, f"tasks/{task.pk}/"), {"done": True}, format="json")

    everything = editor_api.get(url(team, "activity/")).json()
    recent = editor_api.get(url(team, "activity/"), {"since": everything["results"][0]["at"]}).json()

    assert everything["results"][0]["changes"]["done"] == [False, True]
    assert recent["count"] == 1


# --- import and export -----------------------------------------------------------------------------


def test_import_markdown_as_the_body_then_export_it_back(outsider, elsewhere, example_bytes):
    api = client_for(outsider)

    created = api.post("/api/operations/import/", example_bytes, content_type="text/markdown")
    exported = api.get("/api/operations/operation-snail-trail/markdown/")
    document = api.get("/api/operations/operation-snail-trail/document/")

    assert created.status_code == 201 and created.json()["role"] == "admin"
    assert exported["Content-Type"].startswith("text/markdown")
    assert exported.content == example_bytes
    assert document.json()["name"] == "Operation Snail Trail"


def test_import_an_upload(outsider, elsewhere, example_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("tracker.md", example_bytes, content_type="text/markdown")

    response = client_for(outsider).post("/api/operations/import/", {"document": upload}, format="multipart")

    assert response.status_code == 201


def test_a_broken_document_is_a_400_with_line_numbers_and_imports_nothing(outsider, elsewhere):
    document = (BAD / "duplicate-phase.md").read_bytes()

    response = client_for(outsider).post("/api/operations/import/", document, content_type="text/markdown")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "The document does not import: 1 problem."
    assert body["problems"] == [{"line": 22, "message": "Phase 2 is listed twice"}]
    assert not Operation.objects.exists()


def test_importing_over_an_operation_needs_replace_and_its_admin_role(team, editor_api, admin_api, example_bytes):
    clash = editor_api.post("/api/operations/import/", example_bytes, content_type="text/markdown")
    not_admin = editor_api.post("/api/operations/import/?replace=true", example_bytes, content_type="text/markdown")
    replaced = admin_api.post("/api/operations/import/?replace=true", example_bytes, content_type="text/markdown")

    assert clash.status_code == 400 and "already exists" in clash.json()["problems"][0]["message"]
    assert not_admin.status_code == 403
    assert replaced.status_code == 200 and replaced.json()["slug"] == team.slug


# --- bad input: never a 500, never half-written ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status", "needle"),
    [
        (b'{"title": ', "application/json", 400, "JSON parse error"),
        (b'["a", "list"]', "application/json", 400, "Expected a dictionary"),
        (b'{"title": "a\\u0000b", "kind": "next_step"}', "application/json", 400, "Null characters"),
        (b'{"title": ["not", "text"], "kind": "next_step"}', "application/json", 400, "Not a valid string"),
        (b'{"title": "x", "kind": "next_step", "position": 7}', "application/json", 400, "read-only"),
        (b'{"title": "x", "kind": "next_step", "position": 1e999}', "application/json", 400, "JSON parse error"),
        (b'{"title": "x", "kind": "next_step", "colour": "red"}', "application/json", 400, "colour"),
        (b'{"title": "x", "kind": "epic"}', "application/json", 400, "kind"),
        (b'{"title": "' + b"x" * 3000 + b'", "kind": "next_step"}', "application/json", 400, "title"),
        (b"title=x", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
    ],
    ids=[
        "malformed",
        "list",
        "nul",
        "wrong-type",
        "read-only",
        "infinite",
        "unknown",
        "bad-choice",
        "too-long",
        "form",
    ],
)
def test_bad_bodies_are_4xx_in_the_error_shape(team, editor_api, body, content_type, status, needle):
    before = Task.objects.count()

    response = editor_api.generic("POST", url(team, "tasks/"), body, content_type=content_type)

    assert response.status_code == status, response.content
    if status >= 400:
        assert set(response.json()) <= {"error", "fields"}
        assert needle in str(response.json())
        assert Task.objects.count() == before


@pytest.mark.parametrize("number", [10**30, -1, "4x"])
def test_out_of_range_numbers_are_a_400(team, editor_api, number):
    response = editor_api.post(url(team, "phases/"), {"number": number, "title": "Odd"}, format="json")

    assert response.status_code == 400 and "number" in response.json()["fields"]


@pytest.mark.parametrize(
    "query",
    [
        {"phase": "99999999999999999999999999"},
        {"phase": "four"},
        {"done": "maybe"},
        {"changed_since": "yesterday"},
        {"kind": "x\x00"},
        {"page": "999"},
        {"page_size": "100000"},
    ],
)
def test_odd_query_parameters_are_never_a_500(team, editor_api, query):
    response = editor_api.get(url(team, "tasks/"), query)

    assert response.status_code in (200, 400, 404)
    assert "error" in response.json() or "results" in response.json()


@pytest.mark.parametrize("path", ["tasks/99999999999999999999999999/", "phases/99999999999999999999/"])
def test_huge_ids_in_the_path_are_a_404(team, editor_api, path):
    response = editor_api.get(url(team, path))

    assert response.status_code == 404 and set(response.json()) == {"error"}


def test_an_unknown_api_url_is_a_json_404(editor_api):
    response = editor_api.get("/api/no-such-thing/")

    assert response.status_code == 404 and response.json() == {"error": "Not found."}


def test_an_oversized_body_is_a_413_before_it_is_read(team, editor_api, settings):
    settings.API_MAX_BODY_BYTES = 1000

    body = b"{" + b" " * 2000 + b"}"
    response = editor_api.generic("POST", url(team, "tasks/"), body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"error": "The body is 2002 bytes; the limit is 1000."}


# --- throttles --------------------------------------------------------------------------------------


@pytest.fixture
def rates(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "3/min", "write": "2/min"},
    }
    yield
    cache.clear()


def test_token_requests_are_throttled_per_address_with_retry_after(rates, viewer):
    api = APIClient()
    guess, right = {"username": "viewer", "password": "guess"}, {"username": "viewer", "password": "viewer-password"}
    wrong = [api.post("/api/auth/token/", guess, format="json") for _ in range(3)]

    throttled = api.post("/api/auth/token/", right, format="json")
    elsewhere = api.post("/api/auth/token/", right, format="json", REMOTE_ADDR="10.1.2.3")

    assert [r.status_code for r in wrong] == [400, 400, 400]
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert "throttled" in throttled.json()["error"]
    assert elsewhere.status_code == 200  # the real user, from their own address, still gets in


def test_writes_are_throttled_per_user_and_reads_are_not(rates, team, editor_api, viewer):
    task = criterion(team)
    writes = [editor_api.patch(url(team, f"tasks/{task.pk}/"), {"done": d}, format="json") for d in (True, False, True)]

    assert [r.status_code for r in writes] == [200, 200, 429]
    assert "Retry-After" in writes[2]
    assert editor_api.get(url(team, "tasks/")).status_code == 200
    task.refresh_from_db()
    assert task.done is False  # the throttled write changed nothing


@pytest.mark.parametrize(
    "when",
    [
        "0366-01-20T21:24:32-23:27",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "2026-11-29T10:00:00+14:00",
    ],
)
def test_times_at_the_edges_are_never_a_500(team, editor_api, when):
    """schemathesis found PostgreSQL refusing an offset of -23:27; times are converted to UTC first."""
    for path in ("decisions/", "tasks/", "activity/"):
        response = editor_api.get(url(team, path), {"changed_since" if path != "activity/" else "since": when})
        assert response.status_code in (200, 400), (path, when, response.content)
    assert editor_api.get("/api/operations/", {"changed_since": when}).status_code in (200, 400)
