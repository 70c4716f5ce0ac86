"""gunicorn's master imports the heavy libraries its workers need, and none of our code.

Each worker is forked from the master: what the master imported, a new worker (and each one that
replaces a recycled worker, every `max_requests`) has without paying for it. Our own modules stay
out of the master, so that a HUP loads a new version of the app in new workers.
"""

from tests.probe import printed_json, run_python

SCRIPT = """
import json, runpy, sys
conf = runpy.run_path("config/gunicorn.conf.py")
before = set(sys.modules)
conf["on_starting"](None)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_master_preloads_scikit_learn_and_skops_but_none_of_the_app(tmp_path):
    done = run_python(SCRIPT, env={"PROMETHEUS_MULTIPROC_DIR": None, "SNAILTRAIL_VAR_DIR": str(tmp_path)})
    imported = set(printed_json(done))

    assert {"numpy", "sklearn", "skops.io"} <= imported
    ours = {"config", "core", "tracker", "ops", "mlservice", "notify", "audit"}
    # The one exception, as before: the access log's redacting filter, which the workers inherit.
    allowed = {"core", "core.request_id"}
    assert sorted(m for m in imported - allowed if m.split(".")[0] in ours) == []
    assert (tmp_path / "prometheus").is_dir()  # what on_starting did before still happens
