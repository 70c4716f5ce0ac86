"""The API's authorization matrix: every (path, method) of the served OpenAPI schema, for every kind
of caller, as a real request with real path parameters and a valid body.

The endpoints are read from `/api/schema/?format=json` when the tests are collected, so a new
endpoint is in the matrix as soon as it is in the schema; a write endpoint without an entry in
`BODIES` fails its cells with the line to add, instead of being skipped.

Expected, for objects of the example operation (`team`: owner admin, teammate editor, viewer viewer):
  - anonymous: 401;
  - outsider (no membership): 404 for anything under `/api/operations/{slug}/`; the collection
    (`/api/operations/`, `/api/operations/import/`) answers them like any signed-in user;
  - viewer: reads 2xx except members (admins only, 403); writes 403;
  - editor: reads and writes 2xx, except members (403) and deleting the operation or a phase (403);
  - admin (`owner`) and a superuser: 2xx everywhere.
Each status must be one the schema lists for that operation, and nothing an outsider or an
anonymous caller gets back may contain the team operation's name or the title of anything in it.

Half the signed-in cells (alternating along the schema's order) authenticate with
`Authorization: Token <key>`, the others with `force_authenticate`.

Also here: importing over an existing operation (`?replace=true`) per caller, and a second
operation that must never show through (in a member's lists, at its own paths, or by putting its
item ids under one's own operation). A cell where the API is known to be wrong is a strict xfail
whose reason starts with "bug:", so it turns red once fixed.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlservice.models import ModelAlias, ModelVersion, RegisteredModel
from ops import services as ops_services
from ops.models import AwsEnvironment, Check
from tests.conftest import join
from tracker import services, webhooks
from tracker.lib.samples import large_document
from tracker.models import Achievement, Blocker, Decision, Finding, Phase, Task, Webhook

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/schema/?format=json"
OPENAPI_JSON = "application/vnd.oai.openapi+json"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
WRITE_METHODS = ("post", "put", "patch", "delete")

# Left out of the matrix, each with the reason.
SKIPPED = {
    ("/api/auth/token/", "post"): (
        "anonymous by design (it is how a caller gets a token), so the role matrix does not apply; "
        "tests/tracker/test_api.py tests it (a token that works, a wrong password)"
    ),
}

# Endpoints under an operation that only its admins may read or change.
ADMIN_ONLY_COLLECTIONS = {"members", "webhooks", "webhook-deliveries"}

# Minimal valid bodies of the write endpoints, by (path template, method). A JSON body unless
# it is `(content_type, bytes)`. None: the endpoint takes no body.
IMPORTED_NAME = "Operation Matrix Import"
BODIES: dict[tuple[str, str], object] = {
    ("/api/operations/", "post"): {"name": "Operation Matrix New"},
    ("/api/operations/import/", "post"): (
        "text/markdown",
        large_document(phases=1, tasks=1, name=IMPORTED_NAME).encode(),
    ),
    ("/api/operations/{slug}/", "patch"): {"stated_progress": 91},
    ("/api/operations/{operation_slug}/phases/", "post"): {"number": 5, "title": "x"},
    ("/api/operations/{operation_slug}/phases/{number}/", "patch"): {"title": "x"},
    ("/api/operations/{operation_slug}/tasks/", "post"): {"title": "x", "kind": "task", "phase": 4},
    ("/api/operations/{operation_slug}/tasks/{id}/", "patch"): {"done": True},
    ("/api/operations/{operation_slug}/findings/", "post"): {"subject": "x", "verdict": "correct"},
    ("/api/operations/{operation_slug}/findings/{id}/", "patch"): {"note": "x"},
    ("/api/operations/{operation_slug}/blockers/", "post"): {"title": "x"},
    ("/api/operations/{operation_slug}/blockers/{id}/", "patch"): {"impact": "x"},
    ("/api/operations/{operation_slug}/blockers/{id}/resolve/", "post"): {"status_text": "x"},
    ("/api/operations/{operation_slug}/blockers/{id}/reopen/", "post"): None,
    ("/api/operations/{operation_slug}/decisions/", "post"): {"title": "x"},
    ("/api/operations/{operation_slug}/decisions/{id}/", "patch"): {"title": "x"},
    ("/api/operations/{operation_slug}/achievements/", "post"): {"title": "x"},
    ("/api/operations/{operation_slug}/achievements/{id}/", "patch"): {"title": "x"},
    ("/api/operations/{operation_slug}/members/", "post"): {"username": "newcomer", "role": "viewer"},
    ("/api/operations/{operation_slug}/members/{username}/", "patch"): {"role": "viewer"},
    ("/api/workspaces/", "post"): {"name": "Team Matrix"},
    ("/api/aws-environments/", "post"): {"name": "matrix-2", "account_id": "123456789012", "regions": ["us-east-1"]},
    ("/api/aws-environments/{id}/", "patch"): {"regions": ["us-east-1"]},
    ("/api/models/{name}/", "patch"): {"operation": None},
    ("/api/models/{name}/aliases/", "post"): {"alias": "production", "version": "1"},
    ("/api/workspaces/{workspace_slug}/", "patch"): {"egress_allow": ["10.20.0.0/16"]},
    ("/api/workspaces/{workspace_slug}/members/", "post"): {"username": "newcomer", "role": "member"},
    ("/api/workspaces/{workspace_slug}/members/{username}/", "patch"): {"role": "admin"},
    # An IP literal needs no DNS; nothing in a cell fires an event, so nothing is sent to it.
    ("/api/operations/{operation_slug}/webhooks/", "post"): {"url": "https://93.184.216.34/hook"},
    ("/api/operations/{operation_slug}/webhooks/{id}/", "patch"): {"label": "x"},
    # An HTTP check needs no AWS environment; nothing runs it during the request.
    ("/api/operations/{operation_slug}/checks/", "post"): {
        "name": "Matrix health",
        "type": "http_endpoint",
        "params": {"url": "http://127.0.0.1:9/health"},
    },
    ("/api/operations/{operation_slug}/checks/{id}/", "patch"): {"name": "Matrix health, renamed"},
    ("/api/operations/{operation_slug}/checks/{id}/run/", "post"): None,
    # No AWS here (tests/conftest.py points boto3 at a closed port): the walk answers "unknown".
    ("/api/operations/{operation_slug}/diagnose-ecs/", "post"): {
        "environment": "ENVIRONMENT",
        "region": "us-east-1",
        "cluster": "snail-trail",
        "service": "enhanced-ml-service",
        "port": 5000,
    },
}

# `{id}` in a path: an object of the collection named just before it.
ID_MODELS = {
    "tasks": Task,
    "findings": Finding,
    "blockers": Blocker,
    "decisions": Decision,
    "achievements": Achievement,
    "webhooks": Webhook,
    "checks": Check,
}

MATRIX_MODEL = "matrix-model"

CALLERS = ("anonymous", "outsider", "viewer", "editor", "admin", "superuser")


# --- the schema, read at collection ----------------------------------------------------------------


def served_schema(client) -> dict:
    response = client.get(SCHEMA_URL, HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def _schema_at_collection() -> dict:
    # Collection runs before pytest-django's test environment allows the host "testserver".
    from django.test import Client

    return served_schema(Client(HTTP_HOST="localhost"))


def operations_of(schema: dict) -> list[tuple[str, str]]:
    return [(path, method) for path, item in schema["paths"].items() for method in item if method in HTTP_METHODS]


SCHEMA = _schema_at_collection()
ENDPOINTS = operations_of(SCHEMA)
MATRIX_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint not in SKIPPED]


# --- what each caller should get --------------------------------------------------------------------


def under_a_workspace(path: str) -> bool:
    return path.startswith("/api/workspaces/{workspace_slug}/")


def workspace_expected(path: str, method: str, caller: str) -> str:
    """Workspaces: members read theirs, its admins (here: only the superuser) change it; outsiders get 404."""
    if caller == "outsider":
        return "404"
    if method in WRITE_METHODS and caller != "superuser":
        return "403"
    return "2xx"


def environment_expected(path: str, method: str, caller: str) -> str:
    """AWS environments: the workspace's members read them, its admins (the superuser) change them."""
    writes = method in WRITE_METHODS
    if "{id}" in path and caller == "outsider":
        return "404"
    if writes and caller != "superuser":
        return "403"
    return "2xx"


def model_expected(path: str, method: str, caller: str) -> str:
    """Models: the workspace's members read them, its admins (the superuser) link them and move aliases."""
    if "{name}" in path and caller == "outsider":
        return "404"
    if method in WRITE_METHODS and caller != "superuser":
        return "403"
    return "2xx"


def under_an_operation(path: str) -> bool:
    return path.startswith(("/api/operations/{slug}/", "/api/operations/{operation_slug}/"))


def collection_of(path: str) -> str | None:
    """`tasks` for /api/operations/{operation_slug}/tasks/{id}/; None above an operation's content."""
    parts = path.strip("/").split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "{operation_slug}" else None


def expected(path: str, method: str, caller: str) -> str:
    """The answer wanted: "2xx", or the error status as a string."""
    if caller == "anonymous":
        return "401"
    if under_a_workspace(path):
        return workspace_expected(path, method, caller)
    if path.startswith("/api/aws-environments/"):
        return environment_expected(path, method, caller)
    if path.startswith("/api/models/"):
        return model_expected(path, method, caller)
    if path == "/api/workspaces/":
        return "403" if method == "post" and caller != "superuser" else "2xx"
    if path in ("/api/operations/", "/api/operations/import/") and method == "post" and caller == "outsider":
        return "400"  # in no workspace: nowhere to create one
    if not under_an_operation(path):
        return "2xx"  # the collection: any signed-in user lists theirs, creates and imports
    if caller == "outsider":
        return "404"
    if caller in ("admin", "superuser"):
        return "2xx"
    writes = method in WRITE_METHODS
    if collection_of(path) in ADMIN_ONLY_COLLECTIONS:
        return "403"
    if caller == "viewer":
        return "403" if writes else "2xx"
    # editor
    if method == "delete" and path in ("/api/operations/{slug}/", "/api/operations/{operation_slug}/phases/{number}/"):
        return "403"  # what cannot be undone: the operation, a phase with its tasks
    return "2xx"


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttle counts live in the cache, which outlives each test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newcomer(django_user_model, workspace):
    """Someone of the team's workspace with no role in the operation yet: whom members/ adds."""
    return join(workspace, django_user_model.objects.create_user(username="newcomer", password="newcomer-password"))


@pytest.fixture
def full_team(team):
    """The example operation with at least one of every kind of item."""
    if not team.decisions.exists():
        services.decision_create(operation=team, title="Matrix decision: keep the snail", actor=None)
    if not team.achievements.exists():
        services.achievement_create(operation=team, title="Matrix achievement: a full trail", actor=None)
    if not team.checks.exists():
        ops_services.check_create(
            operation=team,
            name="Matrix check",
            type="http_endpoint",
            actor=None,
            params={"url": "http://127.0.0.1:9/health"},
        )
    if not AwsEnvironment.objects.exists():
        ops_services.environment_create(
            workspace=team.workspace, name="matrix", account_id="123456789012", regions=["us-east-1"]
        )
    if not RegisteredModel.objects.filter(name=MATRIX_MODEL).exists():
        # Rows only (registering fetches and loads an artifact): the API reads and moves them, never serves them.
        model = RegisteredModel.objects.create(name=MATRIX_MODEL, workspace=team.workspace)
        version = ModelVersion.objects.create(
            model=model,
            version="1",
            artifact_uri="/nonexistent/matrix.skops",
            sha256="0" * 64,
            sklearn_version="1.5.0",
            n_features=4,
        )
        ModelAlias.objects.create(model=model, name="production", version=version)
    if not team.webhooks.exists():
        webhooks.webhook_create(operation=team, url="https://93.184.216.34/matrix", actor=None, label="matrix")
    if not team.findings.exists():
        services.finding_create(operation=team, subject="Matrix finding: the trail", verdict="correct", actor=None)
    return team


@pytest.fixture
def callers(owner, teammate, viewer, outsider, superuser, newcomer):
    return {
        "anonymous": None,
        "outsider": outsider,
        "viewer": viewer,
        "editor": teammate,
        "admin": owner,
        "superuser": superuser,
    }


def team_secrets(operation) -> list[str]:
    """Strings only someone who may see the operation should ever read in a response."""
    texts = [operation.name]
    texts += list(operation.phases.values_list("title", flat=True))
    texts += list(Task.objects.filter(operation=operation).values_list("title", flat=True))
    texts += list(Blocker.objects.filter(operation=operation).values_list("title", flat=True))
    texts += list(Finding.objects.filter(operation=operation).values_list("subject", flat=True))
    texts += list(Decision.objects.filter(operation=operation).values_list("title", flat=True))
    texts += list(Achievement.objects.filter(operation=operation).values_list("title", flat=True))
    return sorted({text for text in texts if len(text) >= 8})


def path_value(name: str, collection: str, operation, usernames: dict[str, str]) -> str:
    if name in ("slug", "operation_slug"):
        return operation.slug
    if name == "workspace_slug":
        return operation.workspace.slug
    if name == "number":
        return str(operation.phases.order_by("number").values_list("number", flat=True).first())
    if name == "username":
        return usernames["editor"]
    if name == "name" and collection == "models":
        return MATRIX_MODEL
    if name == "id" and collection == "aws-environments":
        return str(AwsEnvironment.objects.order_by("pk").values_list("pk", flat=True).first())
    if name == "id" and collection in ID_MODELS:
        item = ID_MODELS[collection].objects.filter(operation=operation).order_by("pk").first()
        assert item is not None, f"the operation has no {collection} to put in the path"
        return str(item.pk)
    pytest.fail(f"no value for the path parameter {{{name}}} after {collection!r}: add one to path_value()")


def real_path(template: str, operation, usernames: dict[str, str]) -> str:
    parts = template.split("/")
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            parts[index] = path_value(part[1:-1], parts[index - 1], operation, usernames)
    return "/".join(parts)


def send(api: APIClient, method: str, path: str, template: str):
    if method not in WRITE_METHODS or method == "delete":
        return getattr(api, method)(path)
    if (template, method) not in BODIES:
        pytest.fail(f"no body for {method.upper()} {template}: add a minimal valid one to BODIES")
    body = BODIES[(template, method)]
    if isinstance(body, dict) and body.get("environment") == "ENVIRONMENT":
        body = {**body, "environment": AwsEnvironment.objects.order_by("pk").values_list("pk", flat=True).first()}
    if body is None:
        return getattr(api, method)(path)
    if isinstance(body, tuple):
        content_type, data = body
        return getattr(api, method)(path, data=data, content_type=content_type)
    return getattr(api, method)(path, body, format="json")


def authenticate(api: APIClient, user, how: str) -> APIClient:
    if user is None:
        return api
    if how == "token":
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    else:
        api.force_authenticate(user)
    return api


def auth_mode(index: int, caller: str) -> str:
    if caller == "anonymous":
        return "none"
    return "token" if (index + CALLERS.index(caller)) % 2 == 0 else "forced"


def schema_statuses(path: str, method: str) -> set[str]:
    return set(SCHEMA["paths"][path][method]["responses"])


# Cells where the API is known to be wrong: {(template, method, caller): reason}. Each is an xfail
# that must fail (strict), so fixing the bug turns the cell red until its entry is removed here.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def matrix_cases():
    for index, (path, method) in enumerate(MATRIX_ENDPOINTS):
        for caller in CALLERS:
            how = auth_mode(index, caller)
            marks = []
            if (path, method, caller) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(path, method, caller)]))
            yield pytest.param(
                path,
                method,
                caller,
                how,
                id=f"{method.upper()} {path} | {caller} | {how}",
                marks=marks,
            )


# --- the matrix ---------------------------------------------------------------------------------------


def test_the_schema_lists_every_endpoint_and_the_matrix_covers_them(client):
    assert len(ENDPOINTS) > 20
    assert ("/api/operations/{operation_slug}/tasks/{id}/", "patch") in ENDPOINTS
    assert ("/api/operations/", "get") in ENDPOINTS
    assert ("/api/operations/{operation_slug}/members/{username}/", "delete") in ENDPOINTS
    # What the tests run against is what was collected.
    assert operations_of(served_schema(client)) == ENDPOINTS
    # Every endpoint is in the matrix or skipped with a reason.
    assert set(MATRIX_ENDPOINTS) | set(SKIPPED) == set(ENDPOINTS)
    assert all(endpoint in ENDPOINTS for endpoint in SKIPPED), "a skip for an endpoint the schema no longer has"
    stale = [key for key in BODIES if key not in ENDPOINTS]
    assert not stale, f"bodies for endpoints the schema no longer has: {stale}"


class NotInSchema(AssertionError):
    """A status the schema does not list for the operation: a wrong schema, not a wrong answer."""


def check(response, *, template: str, method: str, path: str, caller: str, how: str, want: str, secrets: list[str]):
    status = response.status_code
    body = response.content.decode(errors="replace")
    got = "2xx" if 200 <= status < 300 else str(status)
    assert got == want, f"{method.upper()} {path} as {caller} ({how}): {status}, want {want}: {body[:300]}"
    if status >= 400:
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        assert "error" in response.json(), body[:300]
    if caller in ("anonymous", "outsider"):
        leaked = [text for text in secrets if text in body]
        assert not leaked, f"{method.upper()} {path} showed {caller} {leaked}"
    listed = schema_statuses(template, method)
    if str(status) not in listed:
        raise NotInSchema(f"{method.upper()} {template} answered {status}; its schema lists only {sorted(listed)}")


@pytest.mark.parametrize(("template", "method", "caller", "how"), list(matrix_cases()))
def test_matrix(template, method, caller, how, full_team, callers):
    usernames = {role: user.username for role, user in callers.items() if user is not None}
    secrets = team_secrets(full_team)
    path = real_path(template, full_team, usernames)
    api = authenticate(APIClient(), callers[caller], how)

    response = send(api, method, path, template)

    want = expected(template, method, caller)
    check(response, template=template, method=method, path=path, caller=caller, how=how, want=want, secrets=secrets)


def test_every_kind_of_caller_is_tested_with_a_token_and_without():
    modes = {(caller, how) for _, _, caller, how in (case.values for case in matrix_cases())}
    for caller in CALLERS:
        if caller != "anonymous":
            assert {(caller, "token"), (caller, "forced")} <= modes, caller


# Importing a document over an existing operation (`?replace=true`) needs its admin role.
IMPORT = "/api/operations/import/"
REPLACE_EXPECTED = {
    "anonymous": "401",
    "outsider": "400",  # in no workspace: nowhere to import into, and nothing of the team's to replace
    "viewer": "403",
    "editor": "403",
    "admin": "2xx",
    "superuser": "2xx",
}


@pytest.mark.parametrize(
    ("caller", "how"),
    [
        pytest.param(
            caller,
            how,
            id=f"POST {IMPORT}?replace=true | {caller} | {how}",
        )
        for index, caller in enumerate(CALLERS)
        for how in ([auth_mode(index, caller)] if caller == "anonymous" else ["token", "forced"])
    ],
)
def test_import_replace_matrix(caller, how, full_team, callers):
    secrets = team_secrets(full_team)
    document = large_document(phases=1, tasks=1, name=full_team.name).encode()
    api = authenticate(APIClient(), callers[caller], how)

    response = api.post(f"{IMPORT}?replace=true", data=document, content_type="text/markdown")

    want = REPLACE_EXPECTED[caller]
    path = f"{IMPORT}?replace=true"
    check(response, template=IMPORT, method="post", path=path, caller=caller, how=how, want=want, secrets=secrets)
    replaced = full_team.__class__.objects.get(pk=full_team.pk).tasks.filter(title="Task 1.0").exists()
    assert replaced == (want == "2xx")


# --- a second operation never shows through ------------------------------------------------------------


@pytest.fixture
def other(outsider, elsewhere):
    """An operation only `outsider` belongs to, in another workspace, with one of every kind of item."""
    operation = services.operation_create(workspace=elsewhere, name="Operation Elsewhere Entirely", actor=outsider)
    phase = services.phase_create(operation=operation, number=1, title="Elsewhere phase one", actor=outsider)
    services.task_create(operation=operation, title="Elsewhere secret task", phase=phase, actor=outsider)
    services.finding_create(operation=operation, subject="Elsewhere finding", verdict="correct", actor=outsider)
    services.blocker_open(operation=operation, title="Elsewhere blocker", actor=outsider)
    services.decision_create(operation=operation, title="Elsewhere decision", actor=outsider)
    services.achievement_create(operation=operation, title="Elsewhere achievement", actor=outsider)
    webhooks.webhook_create(operation=operation, url="https://93.184.216.34/elsewhere", actor=outsider)
    ops_services.check_create(
        operation=operation,
        name="Elsewhere check",
        type="http_endpoint",
        actor=outsider,
        params={"url": "http://127.0.0.1:9/elsewhere"},
    )
    return operation


def _list_paths(operation) -> list[str]:
    """Every GET of the schema without an object in the path, for this operation."""
    paths = []
    for template, method in MATRIX_ENDPOINTS:
        if method != "get" or any(part in template for part in ("{id}", "{number}", "{username}", "{name}")):
            continue
        paths.append(
            template.replace("{operation_slug}", operation.slug)
            .replace("{slug}", operation.slug)
            .replace("{workspace_slug}", operation.workspace.slug)
        )
    return paths


def collection_of_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    return parts[3] if len(parts) > 3 and parts[1] == "operations" else None


def test_a_viewers_lists_never_include_another_operation(full_team, other, viewer):
    api = authenticate(APIClient(), viewer, "token")
    secrets = [text for text in team_secrets(other) if "Elsewhere" in text]
    assert len(secrets) >= 6

    paths = _list_paths(full_team)
    assert "/api/operations/" in paths and f"/api/operations/{full_team.slug}/tasks/" in paths
    for path in paths:
        response = api.get(path)
        body = response.content.decode()
        expected_status = 403 if collection_of_path(path) in ADMIN_ONLY_COLLECTIONS else 200
        assert response.status_code == expected_status, f"{path}: {response.status_code} {body[:200]}"
        leaked = [text for text in secrets if text in body] + ([other.slug] if other.slug in body else [])
        assert not leaked, f"{path} showed the viewer {leaked}"

    slugs = [row["slug"] for row in api.get("/api/operations/").json()["results"]]
    assert slugs == [full_team.slug]


def test_another_operations_paths_are_404_for_a_member_of_a_different_one(full_team, other, viewer, owner):
    for user in (viewer, owner):
        api = authenticate(APIClient(), user, "token")
        assert api.get(f"/api/operations/{other.slug}/tasks/").status_code == 404
        for path in _list_paths(other):
            if not path.startswith(f"/api/operations/{other.slug}/"):
                continue  # not the other operation's: /api/operations/, /api/aws-environments/
            response = api.get(path)
            assert response.status_code == 404, f"{path} as {user.username}: {response.status_code}"
            assert "Elsewhere" not in response.content.decode()


ID_TEMPLATES = [
    (template, method)
    for template, method in MATRIX_ENDPOINTS
    if "{operation_slug}" in template and ("{id}" in template or "{number}" in template)
]


@pytest.mark.parametrize(
    ("template", "method"), ID_TEMPLATES, ids=[f"{method.upper()} {template}" for template, method in ID_TEMPLATES]
)
def test_an_admin_cannot_reach_another_operations_item_through_their_own(template, method, full_team, other, owner):
    """/api/operations/<mine>/tasks/<id of a task elsewhere>/ is a 404, for every verb."""
    api = authenticate(APIClient(), owner, "forced")
    collection = collection_of(template)
    path = real_path(template, other, {"editor": "outsider"}).replace(f"/{other.slug}/", f"/{full_team.slug}/", 1)
    if collection == "phases":  # numbers are per operation: one the team does not have
        path = path.replace("/phases/1/", "/phases/99/")
    before = {model: model.objects.filter(operation=other).count() for model in (Task, Phase, *ID_MODELS.values())}

    response = send(api, method, path, template)

    assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code} {response.content[:200]}"
    assert "Elsewhere" not in response.content.decode()
    after = {model: model.objects.filter(operation=other).count() for model in before}
    assert after == before


def test_an_outsiders_404_is_the_same_as_for_an_operation_that_does_not_exist(full_team, outsider):
    api = authenticate(APIClient(), outsider, "token")
    for suffix in ("", "summary/", "tasks/", "members/"):
        hidden = api.get(f"/api/operations/{full_team.slug}/{suffix}")
        missing = api.get(f"/api/operations/no-such-operation/{suffix}")
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json()), suffix
