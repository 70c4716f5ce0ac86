"""Runs recorded before the egress policy kept the start of other services' answers (a body
excerpt, a redirect's target, an inference service's error text) and showed them to every viewer
of the operation. Checks now keep the verdict and the value that decided it; this forgets what the
old runs kept, so no page keeps showing it."""

from django.db import migrations

URL_TYPES = ("http_endpoint", "inference_endpoint")
REMOTE_KEYS = ("body_excerpt", "location", "error")


def forwards(apps, schema_editor):
    CheckRun = apps.get_model("ops", "CheckRun")
    runs = CheckRun.objects.filter(live_check__type__in=URL_TYPES).only("evidence", "message")
    for run in runs.iterator(chunk_size=500):
        evidence = run.evidence if isinstance(run.evidence, dict) else {}
        if not any(key in evidence for key in REMOTE_KEYS):
            continue
        had_error = "error" in evidence
        run.evidence = {key: value for key, value in evidence.items() if key not in REMOTE_KEYS}
        if had_error and ": " in run.message:
            # "POST <url> answered 503: <the service's text>" keeps "POST <url> answered 503."
            run.message = run.message.split(": ", 1)[0].rstrip(".") + "."
        run.save(update_fields=["evidence", "message"])


class Migration(migrations.Migration):
    dependencies = [("ops", "0004_environment_workspace_required")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
