"""Commands start at once (issue #18): scikit-learn and skops are imported only where a model is
registered or served, and boto3 only where AWS is called (a check runs, a diagnosis walks), never by
`import config.wsgi` (gunicorn's master, before any worker serves) or by `manage.py check` (which
imports every URLconf, view and admin module, the ops views that show the diagnosis among them).

One subprocess for both, with the suite's settings: a fresh interpreter is the only honest count
of what an import pulls in. bench/startup.py measures what that saves in CPU.
"""

from __future__ import annotations

from tests.probe import printed_json, run_python

PROBE = """
import json, sys
HEAVY = ("sklearn", "skops", "boto3")
def heavy():
    return sorted({name.split(".")[0] for name in sys.modules if name.split(".")[0] in HEAVY})
import config.wsgi
after_wsgi = heavy()
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check"])
print(json.dumps({"wsgi": after_wsgi, "check": heavy()}))
"""


def test_it_imports_neither_scikit_learn_skops_nor_boto3_to_start():
    found = printed_json(run_python(PROBE))
    assert found == {"wsgi": [], "check": []}, f"imported at startup: {found}"


# What every process's setup (django.setup(): a command, a Celery worker) and a gunicorn worker
# (`import config.wsgi`) no longer imports, each loaded where it is used instead (issue #18):
# - boto3 and botocore's session, model and validation: ops.checks registers its check types at
#   startup, and imports ops.diagnosis (which brings boto3) and botocore when a check is saved or runs;
# - redis: core.http_errors tells a Redis outage by looking the class up in sys.modules;
# - DRF's views (and the postgres, requests, yaml, pygments and markdown modules of rest_framework.compat):
#   core.http_errors imports DRF in its exception handler, which only DRF's views call;
# - the document parsers (markdown-it): tracker's import route limit imports tracker.importers on a request.
LAZY = (
    "boto3",
    "botocore.session",
    "botocore.model",
    "botocore.validate",
    "ops.diagnosis",
    "ops.aws",
    "redis",
    "rest_framework.views",
    "rest_framework.compat",
    "tracker.importers",
    "tracker.lib.parser",
    "markdown_it",
)

LAZY_PROBE = """
import json, sys
import config.wsgi
print(json.dumps(sorted(name for name in {lazy!r} if name in sys.modules)))
"""


def test_setup_and_the_wsgi_application_import_none_of_what_is_loaded_where_it_is_used():
    assert printed_json(run_python(LAZY_PROBE.format(lazy=LAZY))) == [], "imported by `import config.wsgi`"
