"""The rooms and their arrows (docs/architecture.md), as the import-linter contract in `.importlinter`
checks them: imports run down (config, then ops | mlservice, then tracker, then core), audit
imports no app and no app imports audit. A wrong arrow fails here, with the chain that makes it."""

from __future__ import annotations

import configparser

# The command's module sets import-linter up (its `configure()` runs on import); its `lint_imports`
# would also replace the process's logging configuration (dictConfig), Django's included, so the
# use case underneath is called instead.
import importlinter.cli  # noqa: F401
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
