"""Existing AWS environments move into the workspace of the operations whose checks use them, or
into "Default" (tracker 0009) when none or several do."""

from django.db import migrations


def forwards(apps, schema_editor):
    AwsEnvironment = apps.get_model("ops", "AwsEnvironment")
    Check = apps.get_model("ops", "Check")
    Workspace = apps.get_model("tracker", "Workspace")
    for environment in AwsEnvironment.objects.filter(workspace__isnull=True):
        used_by = set(
            Check.objects.filter(environment=environment).values_list("operation__workspace_id", flat=True)
        )
        if len(used_by) == 1:
            environment.workspace_id = used_by.pop()
        else:
            environment.workspace, _ = Workspace.objects.get_or_create(slug="default", defaults={"name": "Default"})
        environment.save(update_fields=["workspace"])


class Migration(migrations.Migration):
    dependencies = [("ops", "0002_workspaces"), ("tracker", "0010_operation_workspace_required")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
