"""Existing models move into the workspace of the operation they are linked to, else "Default"."""

from django.db import migrations


def forwards(apps, schema_editor):
    RegisteredModel = apps.get_model("mlservice", "RegisteredModel")
    Workspace = apps.get_model("tracker", "Workspace")
    for model in RegisteredModel.objects.filter(workspace__isnull=True).select_related("operation"):
        if model.operation is not None:
            model.workspace_id = model.operation.workspace_id
        else:
            model.workspace, _ = Workspace.objects.get_or_create(slug="default", defaults={"name": "Default"})
        model.save(update_fields=["workspace"])


class Migration(migrations.Migration):
    dependencies = [("mlservice", "0003_workspaces"), ("tracker", "0010_operation_workspace_required")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
