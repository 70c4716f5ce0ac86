"""Upgrading a database from before workspaces: everything lands in one workspace, "Default".

Runs the real migrations backwards to the last state without workspaces, writes rows the way that
schema had them, and migrates forwards again.
"""

from __future__ import annotations

import pytest

from tests.conftest import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("tracker", "0007_activityentry_evidence"), ("ops", "0001_initial"), ("mlservice", "0002_serving_state")]
AFTER = [
    ("tracker", "0010_operation_workspace_required"),
    ("ops", "0004_environment_workspace_required"),
    ("mlservice", "0005_model_workspace_required"),
]


@pytest.fixture
def old_apps():
    apps = migrate_to(BEFORE)
    yield apps
    migrate_to(latest_migrations())


def test_existing_rows_move_into_a_default_workspace_with_their_people(old_apps):
    User = old_apps.get_model("auth", "User")
    Operation = old_apps.get_model("tracker", "Operation")
    Membership = old_apps.get_model("tracker", "Membership")
    AwsEnvironment = old_apps.get_model("ops", "AwsEnvironment")
    RegisteredModel = old_apps.get_model("mlservice", "RegisteredModel")
    ana = User.objects.create(username="ana")
    bo = User.objects.create(username="bo")
    User.objects.create(username="loner")
    red = Operation.objects.create(name="Operation Red", slug="operation-red")
    blue = Operation.objects.create(name="Operation Blue", slug="operation-blue")
    Membership.objects.create(operation=red, user=ana, role="admin")
    Membership.objects.create(operation=blue, user=bo, role="viewer")
    AwsEnvironment.objects.create(name="prod", account_id="123456789012", regions=["us-east-1"])
    RegisteredModel.objects.create(name="iris", operation=red)

    new = migrate_to(AFTER)

    Workspace = new.get_model("tracker", "Workspace")
    WorkspaceMembership = new.get_model("tracker", "WorkspaceMembership")
    (default,) = Workspace.objects.all()
    assert (default.slug, default.name) == ("default", "Default")
    assert set(new.get_model("tracker", "Operation").objects.values_list("workspace_id", flat=True)) == {default.pk}
    assert new.get_model("ops", "AwsEnvironment").objects.get().workspace_id == default.pk
    assert new.get_model("mlservice", "RegisteredModel").objects.get().workspace_id == default.pk
    # Members of its operations, as plain members: administering the workspace is a superuser's choice.
    people = dict(WorkspaceMembership.objects.values_list("user__username", "role"))
    assert people == {"ana": "member", "bo": "member"}


def test_a_fresh_database_gets_no_workspace(old_apps):
    new = migrate_to(AFTER)

    assert not new.get_model("tracker", "Workspace").objects.exists()
