"""tracker's public surface (docs/architecture.md, "What other apps may import from tracker"): each
module of tracker is either public, or forbidden to ops and mlservice by the `tracker-public-surface`
contract of `.importlinter`. A new module of tracker fails here until it is put on one side."""

from __future__ import annotations

import configparser

from tests.conftest import ROOT

CONTRACT = ROOT / ".importlinter"
# What ops and mlservice may import: their foreign keys' models, the writes and reads, the doors to
# an operation for pages and API views, the roles, and the hooks they register on or listen to.
PUBLIC = {
    "access",
    "dashboard",
    "events",
    "models",
    "permissions",
    "selectors",
    "services",
    "signals",
    "watch",
    "workspace_sections",
}


def tracker_modules() -> set[str]:
    folder = ROOT / "tracker"
    modules = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    return modules | {path.parent.name for path in folder.glob("*/__init__.py")}


def contract() -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(CONTRACT)
    return parser["importlinter:contract:tracker-public-surface"]


def test_every_module_of_tracker_is_public_or_forbidden_to_the_apps_above():
    forbidden = {name.removeprefix("tracker.") for name in contract()["forbidden_modules"].split()}

    assert not forbidden & PUBLIC
    assert tracker_modules() - PUBLIC == forbidden, "classify each module of tracker: public, or forbidden"


def test_the_contract_names_the_apps_above_tracker():
    assert set(contract()["source_modules"].split()) == {"ops", "mlservice", "notify"}
