"""Existing operations move into one workspace, "Default", and their members become its members
(operation admins as workspace members: they keep administering their operations, but managing
the workspace is for the admins an instance superuser names). A fresh database gets no workspace."""

from django.db import migrations

DEFAULT = {"slug": "default", "name": "Default"}


def default_workspace(apps):
    """The workspace existing rows move into (made on first use)."""
    Workspace = apps.get_model("tracker", "Workspace")
    workspace, _ = Workspace.objects.get_or_create(slug=DEFAULT["slug"], defaults={"name": DEFAULT["name"]})
    return workspace


def forwards(apps, schema_editor):
    Operation = apps.get_model("tracker", "Operation")
    Membership = apps.get_model("tracker", "Membership")
    WorkspaceMembership = apps.get_model("tracker", "WorkspaceMembership")
    if not Operation.objects.filter(workspace__isnull=True).exists():
        return
    workspace = default_workspace(apps)
    Operation.objects.filter(workspace__isnull=True).update(workspace=workspace)
    users = Membership.objects.values_list("user_id", flat=True).distinct()
    WorkspaceMembership.objects.bulk_create(
        [WorkspaceMembership(workspace=workspace, user_id=user_id, role="member") for user_id in users],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("tracker", "0008_workspaces")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
