import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tracker", "0009_existing_data_into_a_workspace")]
    operations = [
        migrations.AlterField(
            model_name="operation",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="operations", to="tracker.workspace"
            ),
        ),
    ]
