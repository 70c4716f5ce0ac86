"""Time importing and exporting a generated tracker of 50 phases and 5,000 tasks.

Absolute times drift on a shared machine, so each figure is also given as a ratio to a baseline
measured in the same process, in the same run:
  - parse+render: the pure markdown work, no database;
  - raw insert: the same number of rows written with one `executemany` per table through the
    DB-API cursor, the floor any importer pays on this database.

    python bench/import_export.py [--repeat 5] [--database-url postgres://postgres@127.0.0.1/bench]

Uses a throwaway SQLite file unless --database-url is given (that database is created and dropped).
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchdb import bench_database


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--phases", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    cleanup = bench_database(args.database_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tracker.exporters import export_json, export_markdown
    from tracker.importers import import_document
    from tracker.lib.parser import parse
    from tracker.lib.renderer import render
    from tracker.lib.samples import large_document
    from tracker.models import Operation
    from tracker.services import workspace_create

    workspace = workspace_create(name="Bench", actor=None)
    text = large_document(phases=args.phases, tasks=args.tasks)
    data = text.encode()
    rows = args.tasks + 2 * args.phases + 3  # tasks, criteria, findings and the rest, roughly

    def raw_insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_rows (a integer, b text, c text, d boolean)")
            cursor.execute("DELETE FROM bench_rows")
            cursor.executemany(
                "INSERT INTO bench_rows (a, b, c, d) VALUES (%s, %s, %s, %s)",
                [(i, f"Task {i}", f"Detail of `task-{i}`", i % 3 == 0) for i in range(rows)],
            )

    def import_fresh() -> None:
        Operation.objects.all().delete()
        import_document(data=data, actor=None, workspace=workspace)

    def replace() -> None:
        import_document(data=data, actor=None, workspace=workspace, replace=True)

    slug = "operation-big-rollout"
    figures = {
        "parse+render (no database)": timed(lambda: render(parse(text)), args.repeat),
        "raw insert baseline": timed(raw_insert, args.repeat),
        "import (new operation)": timed(import_fresh, args.repeat),
        "import --replace": timed(replace, args.repeat),
        "export markdown": timed(lambda: export_markdown(slug), args.repeat),
        "export json": timed(lambda: export_json(slug), args.repeat),
    }
    Operation.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        import_document(data=data, actor=None, workspace=workspace)

    assert export_markdown(slug) == text, "the export differs from the imported document"
    base = figures["raw insert baseline"]
    parse_render = figures["parse+render (no database)"]
    print(f"database: {connection.vendor}; document: {args.phases} phases, {args.tasks} tasks, {len(data):,} bytes")
    print(f"median of {args.repeat} runs")
    print(f"{'step':32} {'seconds':>8} {'x raw insert':>13} {'x parse+render':>15}")
    for name, seconds in figures.items():
        print(f"{name:32} {seconds:8.3f} {seconds / base:13.2f} {seconds / parse_render:15.2f}")
    print(f"queries for one import: {len(queries)}")

    cleanup()


if __name__ == "__main__":
    main()
