"""static/css/plotly.css and templates/snippets/plotly_head.html match the pinned plotly.js.

Under the Content Security Policy plotly.js may not inject its stylesheet; the dashboard links
this copy of it instead (see scripts/plotly_css.py). After an upgrade of `plotly`, run
`python scripts/plotly_css.py` to write them again.
"""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("plotly_css", ROOT / "scripts" / "plotly_css.py")
plotly_css = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plotly_css)

FIX = "out of date for the pinned plotly: run `python scripts/plotly_css.py`"


def test_the_stylesheet_and_the_markers_match_the_pinned_plotly_js():
    css, snippet = plotly_css.render(plotly_css.PLOTLY_JS.read_text(encoding="utf-8"))

    assert plotly_css.CSS.read_text(encoding="utf-8") == css, f"static/css/plotly.css is {FIX}"
    assert plotly_css.SNIPPET.read_text(encoding="utf-8") == snippet, f"templates/snippets/plotly_head.html is {FIX}"


def test_the_stylesheet_has_the_rules_that_lay_a_chart_out():
    css = plotly_css.CSS.read_text(encoding="utf-8")

    assert ".js-plotly-plot .plotly .main-svg { position:absolute;" in css
    assert ".js-plotly-plot .plotly .modebar { position:absolute;" in css
