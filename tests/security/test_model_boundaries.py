"""A model is its workspace's: a token reaches only the models of its user's workspaces, and why a
model cannot be loaded (its artifact's path and sha256 values) is told only to that workspace's admins.

The leak of issue #13: every API token could read the metadata of, and call, every model, and a 503
showed any token holder the artifact path and both sha256 values. Here amy is a member and ada an
admin of workspace Alpha, which serves `mb-alpha`; bob is a member of Bravo, which serves
`mb-bravo`; root is a superuser. For bob, `mb-alpha` must not exist: every model route answers
exactly (status, headers, body) as for a model that was never registered.

A worker remembers a token's reach (its user's workspaces) for MLSERVICE_TOKEN_CACHE_SECONDS (30 s
by default; mlservice/access.py), so a user added to or taken out of a workspace gets the new reach
within that time, in every worker, and no request pays a query for it.

These tests build their own two workspaces, with the users of the one cast (tests/cast.py); the
sweep's world (tests/security/world.py) is built only in the modules that sweep it.
"""

from __future__ import annotations

import json
import logging
import re
import shutil

import pytest
import skops.io
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from mlservice import access, registry
from mlservice.models import RegisteredModel
from tests import cast
from tests.conftest import join
from tracker import services as tracker_services
from tracker.models import Workspace, WorkspaceMembership

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_mlservice")]

ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}
GENERIC = "the model's artifact could not be loaded; its workspace admins can see why"  # serving.GENERIC_REASON
SHA256 = re.compile(rb"[0-9a-f]{64}")

# Every route that names a model: (method, path with {m}). A version the model has (1) and one it
# has not (9): neither may tell an outsider that the model exists, nor which versions it has.
MODEL_ROUTES = [
    ("get", "/v2/models/{m}"),
    ("get", "/v2/models/{m}/versions/1"),
    ("get", "/v2/models/{m}/versions/9"),
    ("get", "/v2/models/{m}/ready"),
    ("get", "/v2/models/{m}/versions/1/ready"),
    ("get", "/v2/models/{m}/versions/9/ready"),
    ("post", "/v2/models/{m}/infer"),
    ("post", "/v2/models/{m}/versions/1/infer"),
    ("post", "/v2/models/{m}/versions/9/infer"),
]


@pytest.fixture(autouse=True)
def _in_a_savepoint(db):
    """Overrides the package's: these tests need the database, not the sweep's world (if another test
    built it, they run inside it, beside its rows)."""
    yield


@pytest.fixture(scope="module")
def fitted():
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(X, y), LogisticRegression(max_iter=500, C=0.5).fit(X, y)


class Two:
    """Alpha (ada admin, amy member, model mb-alpha, its operation) and Bravo (bob member, model mb-bravo)."""

    def __init__(self, django_user_model, tmp_path, fitted):
        # The cast's (tests/cast.py): ada is the owner, amy a teammate, bob the outsider, root the admin.
        self.ada, self.amy, self.bob, self.root = (cast.make(n) for n in ("owner", "teammate", "outsider", "admin"))
        self.alpha = Workspace.objects.create(name="Models Alpha", slug="models-alpha")
        self.bravo = Workspace.objects.create(name="Models Bravo", slug="models-bravo")
        join(self.alpha, self.ada, "admin")
        join(self.alpha, self.amy, "member")
        join(self.bravo, self.bob, "member")
        self.alpha_operation = tracker_services.operation_create(
            workspace=self.alpha, name="Models Alpha rollout", actor=None
        )
        self.bravo_operation = tracker_services.operation_create(
            workspace=self.bravo, name="Models Bravo rollout", actor=None
        )
        tracker_services.membership_set(operation=self.alpha_operation, user=self.amy, role="viewer", actor=None)
        self.good, self.other = fitted
        self.alpha_artifact = tmp_path / "alpha-1.skops"
        skops.io.dump(self.good, self.alpha_artifact)
        bravo_artifact = tmp_path / "bravo-1.skops"
        skops.io.dump(self.good, bravo_artifact)
        self.alpha_v1 = registry.register_version(
            name="mb-alpha",
            uri=str(self.alpha_artifact),
            version="1",
            trust=[],
            workspace=self.alpha,
            alias="production",
            operation=self.alpha_operation,
        )
        registry.register_version(
            name="mb-bravo", uri=str(bravo_artifact), version="1", trust=[], workspace=self.bravo, alias="production"
        )
        self.tokens = {user: Token.objects.create(user=user).key for user in (self.ada, self.amy, self.bob, self.root)}

    def client(self, user) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {self.tokens[user]}")

    def tamper(self, tmp_path) -> str:
        """Replace mb-alpha v1's artifact after registration: its load now fails on the sha256.
        Returns the sha256 the file now has."""
        replaced = tmp_path / "replaced.skops"
        skops.io.dump(self.other, replaced)
        shutil.copyfile(replaced, self.alpha_artifact)
        from mlservice.artifacts import sha256_of

        actual = sha256_of(self.alpha_artifact)
        assert actual != self.alpha_v1.sha256
        return actual


@pytest.fixture
def two(django_user_model, tmp_path, fitted) -> Two:
    return Two(django_user_model, tmp_path, fitted)


def call(client: Client, method: str, path: str):
    if method == "post":
        return client.post(path, json.dumps(ROW), content_type="application/json")
    return client.get(path)


def answer(response) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (but the request id, new on every request) and body."""
    headers = {name: value for name, value in response.items() if name != "X-Request-ID"}
    return response.status_code, headers, response.content


# --- reach --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "route"), MODEL_ROUTES)
def test_another_workspaces_model_is_answered_as_one_that_does_not_exist(two, method, route):
    path = route.format(m="mb-alpha")

    hidden = answer(call(two.client(two.bob), method, path))
    RegisteredModel.objects.filter(name="mb-alpha").update(name="mb-alpha-renamed")  # now it does not exist
    absent = answer(call(two.client(two.bob), method, path))

    assert hidden[0] == 404, hidden
    assert hidden == absent  # status, headers and body, byte for byte
    assert b"models-alpha" not in hidden[2] and b"versions" not in hidden[2]


def test_a_token_calls_its_own_workspaces_model_and_a_superuser_calls_both(two):
    bob, root = two.client(two.bob), two.client(two.root)

    assert call(bob, "post", "/v2/models/mb-alpha/infer").status_code == 404
    assert call(bob, "post", "/v2/models/mb-bravo/infer").status_code == 200
    assert call(two.client(two.amy), "post", "/v2/models/mb-alpha/infer").status_code == 200
    for name in ("mb-alpha", "mb-bravo"):
        assert call(root, "post", f"/v2/models/{name}/infer").status_code == 200
        assert call(root, "get", f"/v2/models/{name}/versions/1").json()["name"] == name


# --- what a 503 says ----------------------------------------------------------------------------------


def private_bits(two, actual: str) -> list[bytes]:
    """What only Alpha's admins may read: the artifact's path and both sha256 values."""
    return [str(two.alpha_artifact).encode(), two.alpha_v1.sha256.encode(), actual.encode()]


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("get", "/v2/models/{m}/ready"),
        ("get", "/v2/models/{m}/versions/1/ready"),
        ("get", "/v2/models/{m}"),  # its `parameters.reason`
        ("post", "/v2/models/{m}/infer"),
        ("post", "/v2/models/{m}/versions/1/infer"),
    ],
)
def test_a_members_503_names_no_path_or_hash_and_an_admins_does(two, tmp_path, caplog, method, route):
    actual = two.tamper(tmp_path)
    path = route.format(m="mb-alpha")
    caplog.set_level(logging.WARNING, logger="mlservice.serving")

    # The member first (the first load fails), then the admin (the failure remembered), then the
    # member again (from the remembered failure): each told what their role allows.
    member = call(two.client(two.amy), method, path)
    admin = call(two.client(two.ada), method, path)
    again = call(two.client(two.amy), method, path)
    root = call(two.client(two.root), method, path)

    for told in (member, again):
        assert told.status_code == (200 if route == "/v2/models/{m}" else 503), told.content
        assert GENERIC.encode() in told.content.replace(b"\\'", b"'")
        assert not SHA256.search(told.content), told.content
        for secret in private_bits(two, actual):
            assert secret not in told.content
    for told in (admin, root):
        assert told.status_code == member.status_code
        for secret in private_bits(two, actual):
            assert secret in told.content, told.content
    # And the logs keep the whole reason.
    assert two.alpha_v1.sha256 in caplog.text and str(two.alpha_artifact) in caplog.text


def test_a_degraded_models_parameters_follow_the_same_rule(two, tmp_path):
    amy, ada = two.client(two.amy), two.client(two.ada)
    assert call(amy, "post", "/v2/models/mb-alpha/infer").status_code == 200  # v1 has served well
    second = tmp_path / "alpha-2.skops"
    skops.io.dump(two.other, second)
    v2 = registry.register_version(name="mb-alpha", uri=str(second), version="2", trust=[], workspace=two.alpha)
    second.unlink()
    registry.alias_move(model="mb-alpha", alias="production", version="2")

    for method, path in (("post", "/v2/models/mb-alpha/infer"), ("get", "/v2/models/mb-alpha")):
        told_member = call(amy, method, path)
        told_admin = call(ada, method, path)
        member, admin = told_member.json()["parameters"], told_admin.json()["parameters"]
        assert member["degraded"] is admin["degraded"] is True
        assert member["reason"] == f"{v2}: {GENERIC}"
        assert str(second) not in told_member.content.decode() and not SHA256.search(told_member.content)
        assert str(second) in admin["reason"] and "no such file" in admin["reason"]


def test_the_panel_and_the_public_link_name_no_path_or_hash_but_the_workspaces_admins_see_them(two, tmp_path):
    actual = two.tamper(tmp_path)
    _link, token = tracker_services.public_link_create(operation=two.alpha_operation, actor=None)
    dashboard = f"/operations/{two.alpha_operation.slug}/"

    public = Client().get(f"/p/{token}/")
    member = Client()
    member.force_login(two.amy)
    admin = Client()
    admin.force_login(two.ada)
    member_page, admin_page = member.get(dashboard), admin.get(dashboard)

    for page in (public, member_page):
        assert page.status_code == 200
        assert b"mb-alpha" in page.content and "❌ unavailable".encode() in page.content
        assert b"its workspace admins can see why" in page.content
        for secret in private_bits(two, actual):
            assert secret not in page.content
    assert admin_page.status_code == 200
    for secret in private_bits(two, actual):
        assert secret in admin_page.content


def test_the_panel_shows_only_models_of_the_operations_workspace(two):
    # A link across workspaces cannot be made any more (below); rows from before are not trusted.
    RegisteredModel.objects.filter(name="mb-alpha").update(operation=two.bravo_operation)
    RegisteredModel.objects.filter(name="mb-bravo").update(operation=two.bravo_operation)
    viewer = Client()
    viewer.force_login(two.root)

    page = viewer.get(f"/operations/{two.bravo_operation.slug}/").content.decode()

    assert 'id="ml-mb-bravo-1"' in page
    assert "mb-alpha" not in page


# --- registering and linking --------------------------------------------------------------------------


def test_registering_or_linking_across_workspaces_is_refused(two, tmp_path):
    artifact = tmp_path / "more.skops"
    skops.io.dump(two.good, artifact)
    before = RegisteredModel.objects.values_list("name", "workspace_id", "operation_id").order_by("name")
    snapshot = list(before)

    # A new version of Alpha's model, registered in Bravo.
    with pytest.raises(ValidationError, match="another workspace"):
        registry.register_version(name="mb-alpha", uri=str(artifact), version="2", trust=[], workspace=two.bravo)
    # A new model of Bravo, linked to Alpha's operation.
    with pytest.raises(ValidationError, match="another workspace"):
        registry.register_version(
            name="mb-new", uri=str(artifact), version="1", trust=[], workspace=two.bravo, operation=two.alpha_operation
        )
    # Linking Bravo's model to Alpha's operation.
    with pytest.raises(ValidationError, match="another workspace"):
        registry.model_link(model="mb-bravo", operation=two.alpha_operation)
    # The command says the same.
    with pytest.raises(CommandError, match="another workspace"):
        call_command(
            "register_model",
            "mb-new",
            str(artifact),
            "--version",
            "1",
            "--workspace",
            "models-bravo",
            "--operation",
            two.alpha_operation.slug,
        )
    assert list(before) == snapshot
    assert not RegisteredModel.objects.filter(name="mb-new").exists()

    # Control: in its own workspace it registers, and --workspace puts it there.
    call_command("register_model", "mb-new", str(artifact), "--version", "1", "--workspace", "models-bravo")
    assert RegisteredModel.objects.get(name="mb-new").workspace == two.bravo
    registry.model_link(model="mb-bravo", operation=two.bravo_operation)
    assert RegisteredModel.objects.get(name="mb-bravo").operation == two.bravo_operation


# --- the token cache ----------------------------------------------------------------------------------


class Clock:
    """Stands for the `time` module in mlservice.access: the token cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_a_workspace_joined_or_left_is_reflected_within_the_token_cache_time(
    two, settings, monkeypatch, django_assert_num_queries
):
    settings.MLSERVICE_TOKEN_CACHE_SECONDS = 30
    clock = Clock()
    monkeypatch.setattr(access, "time", clock)
    bob = two.client(two.bob)

    def status() -> int:
        return call(bob, "get", "/v2/models/mb-alpha").status_code

    assert status() == 404
    join(two.alpha, two.bob)
    clock.now += 29
    assert status() == 404  # the reach this worker looked up 29 s ago: still trusted
    clock.now += 2
    assert status() == 200  # past MLSERVICE_TOKEN_CACHE_SECONDS: looked up again

    # Within the cache time a request costs no query for the token nor its reach (nor the registry).
    settings.MLSERVICE_REFRESH_SECONDS = 60
    assert status() == 200
    with django_assert_num_queries(0):
        assert status() == 200

    tracker_services.workspace_member_remove(
        membership=WorkspaceMembership.objects.get(workspace=two.alpha, user=two.bob), actor=None
    )
    clock.now += 29
    assert status() == 200
    clock.now += 2
    assert status() == 404

    # Deleting the token is seen at once (in this worker), whatever the cache time.
    Token.objects.filter(user=two.bob).delete()
    assert status() == 401
