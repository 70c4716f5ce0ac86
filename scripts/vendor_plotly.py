"""`python scripts/vendor_plotly.py`: copy the pinned plotly.js partial bundle into static/vendor/.

The dashboard draws scatter and bar traces only (tracker/charts.py, mlservice/panels.py), which
the "basic" bundle holds (scatter, bar, pie): 1.2 MB instead of the full bundle's 4.8 MB. It comes
from the npm registry, exactly the version pinned below, checked against the registry's sha512
integrity, and is committed: the product has no build step and no CDN. In production,
collectstatic gives it a hashed name that whitenoise serves compressed with a year-long cache.

Then it writes static/css/plotly.css and templates/snippets/plotly_head.html for that file
(scripts/plotly_css.py). tests/static/test_vendored_plotly.py checks the file is the pinned one.

To upgrade: change VERSION, run this script, run the browser tests, commit static/vendor/ and
what plotly_css.py wrote.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "plotly.js-basic-dist-min"
VERSION = "4.1.1"
REGISTRY = "https://registry.npmjs.org"
VENDOR = ROOT / "static" / "vendor"
# From the package's tarball to static/vendor/: the bundle and its licence.
FILES = {"package/plotly-basic.min.js": "plotly-basic.min.js", "package/LICENSE": "plotly-basic.LICENSE.txt"}
BUNDLE = VENDOR / FILES["package/plotly-basic.min.js"]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed https address
        return response.read()


def fetch(package: str = PACKAGE, version: str = VERSION, names: Iterable[str] = FILES) -> dict[str, bytes]:
    """These files of the package's tarball, once its sha512 matches the registry's. (bench/page_weight.py
    fetches the full bundle with it, to compare.)"""
    dist = json.loads(_get(f"{REGISTRY}/{package}/{version}"))["dist"]
    tarball = _get(dist["tarball"])
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512" or base64.b64decode(expected) != hashlib.sha512(tarball).digest():
        raise SystemExit(f"{package}@{version}: the tarball does not match the registry's {dist['integrity']}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        return {name: archive.extractfile(name).read() for name in names}


def main() -> int:
    files = fetch()
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (VENDOR / FILES[name]).write_bytes(content)
        print(f"wrote static/vendor/{FILES[name]} ({len(content):,} bytes) from {PACKAGE}@{VERSION}")
    sys.path.insert(0, str(Path(__file__).parent))
    import plotly_css

    return plotly_css.main()


if __name__ == "__main__":
    sys.exit(main())
