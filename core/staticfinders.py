"""Serve plotly.js from the pinned `plotly` package, as /static/vendor/plotly.min.js.

Our own static files, never a CDN, and no 4.8 MB copy in git: the version is the one
requirements.txt pins, and collectstatic copies just this one file.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PACKAGE_DATA = Path(plotly.__file__).parent / "package_data"
SERVED_AS = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != SERVED_AS:
            return [] if find_all else None
        found = str(PACKAGE_DATA / "plotly.min.js")
        return [found] if find_all else found

    def list(self, ignore_patterns):
        storage = FileSystemStorage(location=PACKAGE_DATA)
        storage.prefix = "vendor"
        yield "plotly.min.js", storage
