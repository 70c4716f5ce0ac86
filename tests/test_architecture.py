"""The rooms and their arrows (docs/architecture.md), as the import-linter contract in `.importlinter`
checks them: imports run down (config, then ops | mlservice, then tracker, then core), audit
imports no app and no app imports audit. A wrong arrow fails here, with the chain that makes it.

And the sizes of the app code: no file over 500 lines, no function over 60 lines or with a
cyclomatic complexity over 15 (ruff's C901, also in pyproject.toml for `make lint`)."""

from __future__ import annotations

import ast
import configparser
import json
import re
import subprocess
import sys
from pathlib import Path

# The command's module sets import-linter up (its `configure()` runs on import); its `lint_imports`
# would also replace the process's logging configuration (dictConfig), Django's included, so the
# use case underneath is called instead.
import importlinter.cli  # noqa: F401
import pytest
from importlinter.application.use_cases import lint_imports

from tests.conftest import ROOT

CONTRACT = ROOT / ".importlinter"


def test_the_import_contract_is_kept(capsys):
    kept = lint_imports(config_filenames=(str(CONTRACT),), cache_dir=None, no_logo=True)

    report = capsys.readouterr().out
    assert kept, report
    assert "0 broken" in report


def test_every_package_of_the_project_is_in_the_contract():
    """A new app (a folder with an __init__.py) is checked as soon as it exists, or this says so."""
    parser = configparser.ConfigParser()
    parser.read(CONTRACT)
    checked = set(parser["importlinter"]["root_packages"].split())
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}

    assert packages == checked


# --- sizes: no file over 500 lines, no function over 60 lines or complexity 15 in the app code -------

# The app packages (every room but `config`, which is wiring). A new app is added by
# test_every_package_of_the_project_is_in_the_contract's list, so it is measured from its first commit.
APPS = ("core", "tracker", "ops", "mlservice", "audit", "notify")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15


def _app_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def _over_the_limits() -> set[tuple[str, str, str]]:
    """(file, function or "", "file" | "lines" | "complexity") of everything over a limit."""
    found = set()
    for path in _app_files():
        name = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if text.count("\n") > MAX_FILE_LINES:
            found.add((name, "", "file"))
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.add((name, node.name, "lines"))
    # Complexity as ruff's C901 (mccabe) counts it, with none of pyproject's per-file exemptions.
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "C901",
            "--config",
            f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}",
            "--exclude",
            "*/migrations/*",
            "--output-format",
            "json",
            *(app for app in APPS if (ROOT / app).is_dir()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for finding in json.loads(ruff.stdout):
        function = re.match(r"`([^`]+)`", finding["message"])
        name = Path(finding["filename"]).relative_to(ROOT).as_posix()
        found.add((name, function.group(1) if function else "", "complexity"))
    return found


@pytest.fixture(scope="module")
def over_the_limits() -> set[tuple[str, str, str]]:
    return _over_the_limits()


def test_no_app_file_or_function_is_over_its_limits(over_the_limits):
    """Split a file at 500 lines along its seams, and a function at 60 lines or complexity 15 into
    steps a reader can follow (house style; issue #16)."""
    assert over_the_limits == set()


def test_the_limits_are_measured(tmp_path):
    """The measure itself: a long function and a complex one are found (so the tests above can fail)."""
    long_body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    branches = "\n".join(f"    if x == {n}:\n        return {n}" for n in range(MAX_COMPLEXITY + 1))
    tree = ast.parse(f"def long():\n{long_body}\n\ndef short():\n    return 1\n")
    lengths = {node.name: node.end_lineno - node.lineno + 1 for node in tree.body}
    assert lengths["long"] > MAX_FUNCTION_LINES >= lengths["short"]
    (tmp_path / "complex.py").write_text(f"def complex(x):\n{branches}\n")
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "C901", "--output-format", "json"]
        + ["--config", f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}", str(tmp_path / "complex.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert [finding["code"] for finding in json.loads(ruff.stdout)] == ["C901"]
