"""The README's API walkthrough, run as written with curl and jq against a live server: what a
deploy pipeline with only a token does (create from markdown, tick a criterion, open and resolve
a blocker, read the summary), and the output the README says it prints."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import REQUIRE_SERVICES, ROOT

README = (ROOT / "README.md").read_text()


def _block(after: str, fence_info: str) -> str:
    """The first fenced block after `after`, without its fences and exactly as written: the fences
    start their lines, so what a reader copies (a heredoc's closing `EOF` included) is what runs."""
    start = README.index(after)
    match = re.compile(rf"^```{fence_info}\n(.*?)^```$", re.S | re.M).search(README, start)
    assert match is not None, f"no ```{fence_info} block starting a line after {after}"
    return match.group(1)


@pytest.fixture
def tools():
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing and REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {', '.join(missing)} is not installed")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.mark.django_db(transaction=True)
def test_the_readme_api_walkthrough_runs_and_prints_what_it_says(tools, live_server, django_user_model, tmp_path):
    from tracker.models import Workspace, WorkspaceMembership

    demo = django_user_model.objects.create_superuser(username="demo", password="walkthrough-password")
    # As make run leaves it (setup_demo): the "Demo" workspace, which demo administers.
    WorkspaceMembership.objects.create(
        workspace=Workspace.objects.create(name="Demo", slug="demo"), user=demo, role="admin"
    )
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo-password").write_text("walkthrough-password\n")
    script = _block("<!-- api-walkthrough -->", "sh")
    assert "BASE=http://127.0.0.1:8000\n" in script
    script = script.replace("BASE=http://127.0.0.1:8000\n", f"BASE={live_server.url}\n")

    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout == _block("<!-- /api-walkthrough -->", "")


@pytest.mark.django_db(transaction=True)
def test_the_readme_inference_example_runs_and_prints_what_it_says(
    tools, live_server, django_user_model, tmp_path, settings
):
    from django.core.management import call_command

    from mlservice import artifacts, serving

    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    (settings.VAR_DIR / "demo-password").write_text("walkthrough-password\n")
    django_user_model.objects.create_superuser(username="demo", password="walkthrough-password")
    call_command("demo_model")  # what make run does (here without the demo AWS: a local file)
    script = _block("<!-- ml-walkthrough -->", "sh").replace(
        "BASE=http://127.0.0.1:8000\n", f"BASE={live_server.url}\n"
    )
    try:
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    finally:
        artifacts.forget_all()
        serving.router.reset()

    assert run.returncode == 0, run.stderr
    assert run.stdout == _block("<!-- /ml-walkthrough -->", "")
