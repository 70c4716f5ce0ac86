"""`manage.py export_tracker`: the operation back as markdown in the team's style, or canonical JSON."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import EXAMPLE
from tracker import services
from tracker.lib.samples import large_document
from tracker.lib.values import write_datetime
from tracker.models import Blocker, Task

pytestmark = pytest.mark.django_db

FAMILY = sorted((Path(__file__).parent.parent / "fixtures" / "documents").glob("*.md"))
EXACT = sorted((Path(__file__).parent.parent / "fixtures" / "documents" / "exact").glob("*.md"))


def export(slug: str, *args: str) -> str:
    out = StringIO()
    call_command("export_tracker", slug, *args, stdout=out)
    return out.getvalue()


def import_file(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_tracker", *args, str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_it_gives_the_example_back_byte_for_byte(example_operation):
    assert export(example_operation.slug) == EXAMPLE.read_text()


@pytest.mark.parametrize("path", EXACT, ids=lambda p: p.stem)
def test_it_gives_back_byte_for_byte_ticked_pending_items_reordered_and_unknown_sections(path: Path):
    assert export(import_file(path)) == path.read_text(encoding="utf-8")


def test_a_task_ticked_in_the_app_stays_where_the_team_wrote_it(example_operation):
    task = Task.objects.get(operation=example_operation, title="AWS Account Check")

    services.task_set_done(task=task, done=True, actor=None)

    example = EXAMPLE.read_text()
    assert export(example_operation.slug) == example.replace(
        "- [ ] **AWS Account Check**", "- [x] **AWS Account Check**"
    )


def test_a_completed_task_reopened_and_ticked_again_comes_back_as_it_was(example_operation):
    task = Task.objects.get(operation=example_operation, title="ECR Deployment")

    services.task_set_done(task=task, done=False, actor=None)
    reopened = export(example_operation.slug)
    services.task_set_done(task=task, done=True, actor=None)

    pending = reopened[reopened.index("### **Pending Tasks:**") :]
    assert "- [ ] **ECR Deployment**: Container pushed and task definition registered" in pending
    assert export(example_operation.slug) == EXAMPLE.read_text()


def test_it_gives_identical_json_for_the_same_content(tmp_path: Path):
    slug = import_file(EXAMPLE)
    first = export(slug, "--format", "json")
    import_file(EXAMPLE, "--replace")

    assert export(slug, "--format", "json") == first


def test_its_json_has_no_database_ids_or_creation_times(example_operation):
    text = export(example_operation.slug, "--format", "json")
    data = json.loads(text)

    assert '"id"' not in text and "created_at" not in text and "updated_at" not in text
    assert data["format"] == "snail-trail/1"
    assert data["slug"] == "operation-snail-trail"
    assert data["start_date"] == "2025-08-11"
    assert [p["number"] for p in data["phases"]] == [1, 2, 3, 4]
    assert data["phases"][0]["duration_seconds"] == 9660


@pytest.mark.parametrize("path", [EXAMPLE, *FAMILY, *EXACT], ids=lambda p: p.name)
def test_importing_the_export_gives_identical_json(tmp_path: Path, path: Path):
    slug = import_file(path)
    original_json = export(slug, "--format", "json")
    exported = tmp_path / "exported.md"
    exported.write_text(export(slug))

    assert import_file(exported, "--replace") == slug
    assert export(slug, "--format", "json") == original_json


def test_it_round_trips_a_large_document(tmp_path: Path):
    path = tmp_path / "large.md"
    path.write_text(large_document(phases=50, tasks=5000))
    slug = import_file(path)

    assert export(slug) == path.read_text()


def test_it_exports_changes_made_through_the_services(example_operation):
    criterion = Task.objects.get(title="Performance monitoring active")
    services.task_set_done(task=criterion, done=True, actor=None)
    blocker = Blocker.objects.get()
    services.blocker_resolve(blocker=blocker, actor=None, status_text="Fixed: the service ran on EC2 capacity")

    text = export(example_operation.slug)

    resolved_at = write_datetime(Blocker.objects.get().resolved_at)
    assert "- [x] Performance monitoring active" in text
    assert (
        "### **Resolved Blocker:**\n"
        "- **VPC Network Configuration**: Public IP assignment not working despite correct subnet and service "
        "configuration\n"
        "- **Impact**: Enhanced ML service cannot be accessed from internet\n"
        "- **Status**: Fixed: the service ran on EC2 capacity\n"
        f"- **Resolved**: {resolved_at}\n"
    ) in text


def test_an_export_after_changes_still_round_trips(tmp_path: Path, example_operation):
    services.blocker_open(operation=example_operation, title="Quota", severity="secondary", actor=None, impact="Slow")
    services.task_create(operation=example_operation, title="New step", kind=Task.Kind.NEXT_STEP, actor=None)
    first_json = export(example_operation.slug, "--format", "json")
    exported = tmp_path / "exported.md"
    exported.write_text(export(example_operation.slug))

    import_file(exported, "--replace")

    assert export(example_operation.slug, "--format", "json") == first_json


def test_it_says_when_there_is_no_such_operation():
    with pytest.raises(CommandError, match="no operation with the slug 'nope'"):
        export("nope")
