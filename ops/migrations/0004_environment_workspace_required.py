import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_existing_environments_into_a_workspace")]
    operations = [
        migrations.AlterField(
            model_name="awsenvironment",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="aws_environments", to="tracker.workspace"
            ),
        ),
    ]
