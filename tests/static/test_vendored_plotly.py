"""static/vendor/plotly-basic.min.js is the pinned plotly.js partial bundle, and it draws every chart.

scripts/vendor_plotly.py copies it from the npm registry; after changing its VERSION, run it again.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("vendor_plotly", ROOT / "scripts" / "vendor_plotly.py")
vendor_plotly = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vendor_plotly)

# What plotly.js's "basic" partial bundle registers (its lib/index-basic.js).
BASIC_TRACES = {"scatter", "bar", "pie"}


def test_the_vendored_bundle_is_the_pinned_version():
    header = vendor_plotly.BUNDLE.read_text(encoding="utf-8")[:300]

    found = re.search(r"plotly\.js \(basic - minified\) v(\S+)", header)

    assert found, "static/vendor/plotly-basic.min.js is not plotly.js's basic bundle"
    assert found.group(1) == vendor_plotly.VERSION, "run `python scripts/vendor_plotly.py`"


def test_the_dashboard_loads_the_vendored_bundle_and_no_other_plotly():
    template = (ROOT / "templates" / "tracker" / "dashboard.html").read_text(encoding="utf-8")

    assert re.findall(r"static '(vendor/plotly[^']*)'", template) == ["vendor/plotly-basic.min.js"]


@pytest.mark.django_db
def test_every_chart_of_the_dashboard_is_a_trace_type_of_the_bundle(team):
    from mlservice.metrics import VersionStats
    from mlservice.panels import ModelRow, VersionRow, _latency_figure
    from tracker.dashboard import board_charts, build_dashboard
    from tracker.selectors import operation_for_dashboard

    board = build_dashboard(operation_for_dashboard().get(pk=team.pk))
    figures = board_charts(board).figures()
    stats = VersionStats(buckets=[(0.01, 3.0), (float("inf"), 4.0)])
    figures["ml-latency"] = _latency_figure([ModelRow("iris", "1", versions=[VersionRow("1", stats, True)])])

    used = {trace.get("type", "scatter") for figure in figures.values() for trace in figure["data"]}

    assert used and used <= BASIC_TRACES, used - BASIC_TRACES
