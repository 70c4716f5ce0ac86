"""What the Dockerfile runs works outside Docker too (there is no Docker engine here to build it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def production_env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "collectstatic-only",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
    }


def test_the_dockerfile_has_a_builder_and_a_non_root_runtime():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, re.MULTILINE) == ["builder", "runtime"]
    assert "USER snail" in dockerfile.split("AS runtime")[1]


def test_the_image_compiles_every_package_of_ours_to_bytecode():
    """PYTHONDONTWRITEBYTECODE keeps processes from writing bytecode, so the image must hold it:
    otherwise each process compiles every module of ours from source when it starts."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    compiled = re.search(r"^RUN python -m compileall -q (.+)$", dockerfile, re.MULTILINE)
    packages = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"config", "core"}

    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile
    assert compiled is not None and packages <= set(compiled.group(1).split())


def test_collectstatic_runs_with_the_production_settings(tmp_path: Path):
    code = (
        "import django; from django.conf import settings; django.setup();"
        f"settings.STATIC_ROOT = {str(tmp_path / 'static')!r};"
        "from django.core.management import call_command; call_command('collectstatic', '--noinput', verbosity=0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_env(tmp_path), capture_output=True)

    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "static" / "staticfiles.json").exists()  # hashed names for far-future caching


def test_gunicorn_loads_the_wsgi_application(tmp_path: Path):
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--check-config", "config.wsgi:application"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
    )

    assert result.returncode == 0, result.stderr.decode()
