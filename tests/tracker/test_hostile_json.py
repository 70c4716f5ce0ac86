"""The REST API against bodies built to hurt, and writes that would lose data or do nothing.

- JSON nested past API_MAX_JSON_DEPTH, to the token route (anonymous) and to routes that write,
  is a 400 in the API's error shape naming the limit; `json.loads` used to raise RecursionError
  on 100 KB of `[` (a 500). Nothing is written.
- `core.json_body.too_deep` agrees with the nesting of the parsed value, for any JSON
  (Hypothesis, with brackets, quotes and backslashes inside strings).
- A read-only field in a write is a 400 naming it, for every write endpoint's serializer (the
  read-only fields are read from the schema, so a new one is covered when it is added).
- Deleting a phase or an operation needs the admin role; nothing goes for an editor's DELETE.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import json_body
from ops.models import Check
from tracker import services
from tracker.models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Decision,
    Finding,
    Membership,
    Operation,
    Phase,
    Task,
    Webhook,
)

pytestmark = pytest.mark.django_db

OPEN_BRACKETS = b"[" * 100_000  # 100 KB
DEEP_IN_A_FIELD = b'{"title": ' + b"[" * 65 + b'"x"' + b"]" * 65 + b"}"  # valid JSON, 66 deep


def client_for(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def url(team, path: str = "") -> str:
    return f"/api/operations/{team.slug}/{path}"


def everything() -> dict[str, int]:
    """How many rows of each kind exist: a refused request changes none of them."""
    models = (Operation, Phase, Task, Finding, Blocker, Decision, Webhook, Check, Membership, ActivityEntry, Token)
    return {model.__name__: model.objects.count() for model in models}


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert isinstance(body.get("error"), str) and set(body) <= {"error", "fields"}, body
    return body


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


# --- nesting --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [OPEN_BRACKETS, DEEP_IN_A_FIELD], ids=["100KB-of-brackets", "66-deep-in-a-field"])
@pytest.mark.parametrize(
    "who, method, path",
    [
        (None, "post", "/api/auth/token/"),
        ("teammate", "post", "/api/operations/"),
        ("teammate", "post", "decisions/"),
        ("teammate", "patch", "phases/4/"),
        ("owner", "post", "webhooks/"),
        ("owner", "post", "members/"),
        ("teammate", "post", "checks/"),
    ],
)
def test_deep_json_is_a_400_naming_the_limit_and_writes_nothing(request, team, who, method, path, body):
    api = client_for(request.getfixturevalue(who) if who else None)
    target = path if path.startswith("/") else url(team, path)
    before = everything()

    response = api.generic(method.upper(), target, body, content_type="application/json")

    error = refused(response)["error"]
    assert "more than 64 levels deep" in error and "API_MAX_JSON_DEPTH" in error
    assert everything() == before


def test_the_depth_is_the_setting_and_brackets_in_text_are_text(team, teammate, settings):
    api = client_for(teammate)
    title = "[[[{{{" * 20  # 120 brackets in a string: text, not nesting

    created = api.post(url(team, "decisions/"), {"title": title}, format="json")
    assert created.status_code == 201 and created.json()["title"] == title

    settings.API_MAX_JSON_DEPTH = 1
    assert api.post(url(team, "decisions/"), {"title": "flat"}, format="json").status_code == 201
    error = refused(api.post(url(team, "decisions/"), {"title": "x", "group": ["nested"]}, format="json"))["error"]
    assert "more than 1 levels deep (the limit, API_MAX_JSON_DEPTH)" in error


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"title": NaN}', "application/json"),
        (b'{"title": "\\ud800"}', "application/json"),  # a lone surrogate: no database can store it
        (b'{"title": ' + b"[" * 2000 + b"]" * 2000 + b"}", "application/json; charset=utf-16"),
        ("[" * 50_000, "application/json; charset=utf-16"),
    ],
    ids=["nan", "lone-surrogate", "not-utf16", "deep-utf16"],
)
def test_other_broken_json_is_a_400(team, teammate, body, content_type):
    if isinstance(body, str):
        body = body.encode("utf-16")
    before = everything()

    refused(client_for(teammate).generic("POST", url(team, "decisions/"), body, content_type=content_type))
    assert everything() == before


_json_text = st.text(alphabet=st.sampled_from('[]{}"\\/ab\n\u00e9\U0001f40c'), max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _json_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_json_text, children, max_size=3),
    max_leaves=40,
)


def nesting(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(nesting, value), default=0)
    return 0


@hypothesis_settings(max_examples=500, deadline=None)
@given(value=_json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_too_deep_agrees_with_the_nesting_of_any_json(value, ascii_only, indent):
    body = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    depth = nesting(value)

    for limit in {max(depth - 1, 0), depth, depth + 1}:
        assert json_body.too_deep(body, limit) == (depth > limit), (body, limit)


# --- read-only fields ---------------------------------------------------------------------------------------

# Write endpoints that take a JSON body (schema path templates), each with a minimal valid body.
# The fields refused are those the answer's schema marks readOnly and the request's does not take:
# each is added to the body in turn.
OP = "/api/operations/{operation_slug}/"
WRITES = {
    ("post", "/api/operations/"): {"name": "Operation Read Only"},
    ("patch", "/api/operations/{slug}/"): {"stated_progress": 50},
    ("post", OP + "phases/"): {"number": 5, "title": "x"},
    ("patch", OP + "phases/{number}/"): {"title": "x"},
    ("post", OP + "tasks/"): {"title": "x", "kind": "next_step"},
    ("patch", OP + "tasks/{id}/"): {"done": True},
    ("post", OP + "findings/"): {"subject": "x", "verdict": "correct"},
    ("patch", OP + "findings/{id}/"): {"note": "x"},
    ("post", OP + "blockers/"): {"title": "x"},
    ("patch", OP + "blockers/{id}/"): {"impact": "x"},
    ("post", OP + "decisions/"): {"title": "x"},
    ("patch", OP + "decisions/{id}/"): {"title": "x"},
    ("post", OP + "achievements/"): {"title": "x"},
    ("patch", OP + "achievements/{id}/"): {"title": "x"},
    ("post", OP + "members/"): {"username": "outsider", "role": "viewer"},
    ("patch", OP + "members/{username}/"): {"role": "viewer"},
    ("post", OP + "webhooks/"): {"url": "https://93.184.216.34/hook"},
    ("post", OP + "checks/"): {"name": "Health", "type": "http_endpoint", "params": {"url": "http://127.0.0.1:9/h"}},
}
ITEMS = {"tasks": Task, "findings": Finding, "blockers": Blocker, "decisions": Decision, "achievements": Achievement}
_schema: dict = {}


def _component(ref: dict) -> dict:
    return _schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def refused_fields(method: str, template: str) -> list[str]:
    """What the answer shows read-only and the request does not take."""
    if not _schema:
        _schema.update(SchemaGenerator().get_schema(request=None, public=True))
    operation = _schema["paths"][template][method]
    takes = _component(operation["requestBody"]["content"]["application/json"]["schema"])["properties"]
    answer = next(r for status, r in operation["responses"].items() if status.startswith("2"))
    shows = _component(answer["content"]["application/json"]["schema"])["properties"]
    return [name for name, spec in shows.items() if spec.get("readOnly") and name not in takes]


def real_path(template: str, team) -> str:
    parts = template.split("/")
    for index, part in enumerate(parts):
        if part in ("{slug}", "{operation_slug}"):
            parts[index] = team.slug
        elif part == "{number}":
            parts[index] = "4"
        elif part == "{username}":
            parts[index] = "teammate"
        elif part == "{id}":
            parts[index] = str(ITEMS[parts[index - 1]].objects.filter(operation=team).values_list("pk", flat=True)[0])
    return "/".join(parts)


@pytest.fixture
def full_team(team, outsider):
    services.finding_create(operation=team, subject="A finding", verdict="correct", actor=None)
    services.decision_create(operation=team, title="A decision", actor=None)
    services.achievement_create(operation=team, title="An achievement", actor=None)
    return team


@pytest.mark.parametrize("method, template", list(WRITES), ids=[f"{m}-{t.removeprefix(OP)}" for m, t in WRITES])
def test_a_read_only_field_is_a_400_naming_it(full_team, owner, method, template):
    target = real_path(template, full_team)
    fields = refused_fields(method, template)
    assert fields, f"nothing read-only to send to {method.upper()} {template}: take it out of WRITES"
    api = client_for(owner)

    for field in fields:
        before = everything()
        response = getattr(api, method)(target, {**WRITES[(method, template)], field: 2**40}, format="json")

        body = refused(response)
        assert field in body["fields"], (field, body)
        assert body["fields"][field] in ("This field is read-only.", "Unknown field."), body
        assert everything() == before


def test_several_read_only_fields_are_named_together(team, teammate):
    response = client_for(teammate).post(
        url(team, "tasks/"), {"title": "x", "kind": "next_step", "position": 2**70, "done_at": None}, format="json"
    )

    assert refused(response) == {
        "error": "done_at, position are read-only: the server sets them; leave them out.",
        "fields": {"done_at": "This field is read-only.", "position": "This field is read-only."},
    }


def test_the_token_route_refuses_a_token_in_the_body(viewer):
    response = client_for(None).post(
        "/api/auth/token/", {"username": "viewer", "password": "viewer-password", "token": "mine"}, format="json"
    )

    assert refused(response)["fields"] == {"token": "This field is read-only."}
    assert not Token.objects.exists()


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.sets(st.sampled_from(["id", "done_at", "position", "checked_at", "stale", "created_at"]), min_size=1))
def test_any_read_only_fields_of_a_task_are_all_named(team, teammate, chosen):
    before = Task.objects.count()
    body = {"title": "x", "kind": "next_step", **{name: 1 for name in chosen}}

    response = client_for(teammate).post(url(team, "tasks/"), body, format="json")

    assert set(refused(response)["fields"]) == chosen
    assert Task.objects.count() == before


# --- deleting what cannot be undone ---------------------------------------------------------------------------


def test_an_editor_cannot_delete_a_phase_and_nothing_goes(team, teammate, viewer):
    phase = Phase.objects.get(operation=team, number=4)
    tasks = Task.objects.filter(phase=phase).count()
    assert tasks
    before = everything()

    for user in (teammate, viewer):
        response = client_for(user).delete(url(team, "phases/4/"))
        assert "admin role" in refused(response, 403)["error"]

    assert everything() == before
    assert Task.objects.filter(phase=phase).count() == tasks


def test_an_admin_deletes_a_phase_and_it_is_logged(team, owner):
    assert client_for(owner).delete(url(team, "phases/4/")).status_code == 204

    assert not Phase.objects.filter(operation=team, number=4).exists()
    assert ActivityEntry.objects.filter(operation=team, action="deleted", subject_type="phase").exists()


def test_an_editor_cannot_delete_the_operation_and_an_admin_can(team, teammate, owner):
    before = everything()

    assert "admin role" in refused(client_for(teammate).delete(url(team)), 403)["error"]
    assert everything() == before

    assert client_for(owner).delete(url(team)).status_code == 204
    assert not Operation.objects.filter(pk=team.pk).exists()


def test_an_editor_still_deletes_one_task(team, teammate):
    """One item, logged with what it was: an editor's to remove (only phases and operations take
    other rows with them)."""
    task = Task.objects.filter(operation=team).first()

    assert client_for(teammate).delete(url(team, f"tasks/{task.pk}/")).status_code == 204
