import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("mlservice", "0004_existing_models_into_a_workspace")]
    operations = [
        migrations.AlterField(
            model_name="registeredmodel",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="ml_models", to="tracker.workspace"
            ),
        ),
    ]
