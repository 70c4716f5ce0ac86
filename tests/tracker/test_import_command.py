"""`manage.py import_tracker`: creates or replaces an operation, or changes nothing and says why."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import EXAMPLE
from tracker.lib.samples import large_document
from tracker.models import ActivityEntry, Blocker, Finding, Operation, Phase, Task

pytestmark = pytest.mark.django_db


def run_import(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_tracker", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def database_state() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Operation, Phase, Task, Finding, Blocker, ActivityEntry)
    }


def test_it_prints_the_slug_of_the_new_operation():
    out, _ = run_import(str(EXAMPLE))

    assert out.strip() == "operation-snail-trail"
    operation = Operation.objects.get(slug="operation-snail-trail")
    assert operation.name == "Operation Snail Trail"
    assert operation.current_phase.number == 4
    assert operation.phases.count() == 4
    assert operation.tasks.filter(kind=Task.Kind.TASK).count() == 16
    assert operation.tasks.filter(kind=Task.Kind.CRITERION).count() == 5
    assert operation.tasks.filter(kind=Task.Kind.NEXT_STEP).count() == 3


def test_it_records_one_activity_entry_for_the_import():
    run_import(str(EXAMPLE))

    entry = ActivityEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.subject_type) == ("imported", "system", "operation")
    assert entry.changes["phases"] == [None, 4]
    assert entry.changes["tasks"] == [None, 24]


def test_it_refuses_to_overwrite_an_existing_operation_without_replace():
    run_import(str(EXAMPLE))
    before = database_state()

    with pytest.raises(CommandError) as raised:
        run_import(str(EXAMPLE))

    assert "nothing was imported" in str(raised.value)
    assert database_state() == before


def test_it_replaces_the_content_and_keeps_the_operation_and_its_history(tmp_path: Path):
    run_import(str(EXAMPLE))
    operation = Operation.objects.get()
    changed = tmp_path / "changed.md"
    changed.write_text(EXAMPLE.read_text().replace("- [ ] **AWS Account Check**", "- [x] **AWS Account Check**"))

    out, _ = run_import("--replace", str(changed))

    assert out.strip() == operation.slug
    assert Operation.objects.get().pk == operation.pk
    assert Task.objects.get(title="AWS Account Check").done is True
    assert Task.objects.count() == 24
    assert list(ActivityEntry.objects.values_list("action", flat=True)) == ["replaced", "imported"]


def test_it_reports_every_problem_with_its_line_and_saves_nothing(tmp_path: Path):
    bad = tmp_path / "bad.md"
    bad.write_text(
        EXAMPLE.read_text()
        .replace("**Start Date**: August 11, 2025", "**Start Date**: February 30, 2025")
        .replace("- **Status**: 90% Complete", "- **Status**: banana% Complete")
        .replace("### **Phase 2: Hybrid ML Service** ✅", "### **Phase 2:** ✅")
    )

    err = call_and_capture_errors(str(bad))

    assert err.splitlines() == [
        f"{bad}:8: 'February 30, 2025' is not a real date (day is out of range for month)",
        f"{bad}:21: Phase 2 has no title",
        f"{bad}:32: progress 'banana%' is not a whole number",
    ]
    assert database_state() == dict.fromkeys(database_state(), 0)


def call_and_capture_errors(path: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_tracker", path, stdout=StringIO(), stderr=err)
    return err.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "1: the document is empty"),
        (b"\n\n   \n", "1: the document is empty"),
        (b"# Title\n\x00\x01\x02binary", "2: this is a binary file, not a markdown document (it has NUL bytes)"),
        (b"# Caf\xe9\n", "1: the document is not UTF-8 text (byte 0xe9 cannot be read)"),
    ],
)
def test_it_refuses_files_that_are_not_tracker_documents(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "input.md"
    path.write_bytes(content)

    assert call_and_capture_errors(str(path)).strip() == f"{path}:{message}"
    assert Operation.objects.count() == 0


def test_it_says_when_the_file_cannot_be_read(tmp_path: Path):
    with pytest.raises(CommandError, match="cannot read"):
        run_import(str(tmp_path / "missing.md"))


def test_it_imports_a_large_document_in_a_bounded_number_of_queries(tmp_path: Path, workspace):
    path = tmp_path / "large.md"
    path.write_text(large_document(phases=50, tasks=5000))

    with CaptureQueriesContext(connection) as queries:
        run_import(str(path))

    assert Task.objects.filter(kind=Task.Kind.TASK).count() == 5000
    assert Phase.objects.count() == 50
    # Bulk writes: 5,000 tasks are three INSERTs; nothing is written row by row. (24 with the
    # workspace: its lookup, its check in full_clean, the free-address look and a savepoint.)
    assert len(queries) <= 25, [q["sql"][:80] for q in queries]


def test_it_replaces_a_large_document_in_a_bounded_number_of_queries(tmp_path: Path, workspace):
    path = tmp_path / "large.md"
    path.write_text(large_document(phases=50, tasks=5000))
    run_import(str(path))

    with CaptureQueriesContext(connection) as queries:
        run_import("--replace", str(path))

    assert Task.objects.filter(kind=Task.Kind.TASK).count() == 5000
    assert len(queries) <= 40, [q["sql"][:80] for q in queries]


def test_a_concurrent_import_of_the_same_operation_is_refused_cleanly(monkeypatch, example_bytes, workspace):
    from tracker.importers import ImportFailed, import_document
    from tracker.services import imports

    import_document(data=example_bytes, actor=None, workspace=workspace)
    before = database_state()
    # As if a second import looked before the first committed: it sees no operation and the
    # address free, then collides on insert.
    monkeypatch.setattr(imports, "_locked_operation", lambda **_: None)
    monkeypatch.setattr(imports, "_free_slug", lambda base: base)

    with pytest.raises(ImportFailed) as raised:
        import_document(data=example_bytes, actor=None, workspace=workspace)

    assert raised.value.problems[0].message == (
        "the address 'operation-snail-trail' was taken while this import ran; import again"
    )
    assert database_state() == before


def test_it_reads_the_document_from_standard_input(monkeypatch, example_bytes):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(example_bytes)))

    out, _ = run_import("-")

    assert out.strip() == "operation-snail-trail"
