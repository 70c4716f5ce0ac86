"""Time the REST API's list endpoints on a small and on a large operation, and count their queries.

Each request goes through DRF's `APIClient` with `Authorization: Token <key>`, so authentication,
middleware, filtering, pagination, queries and JSON rendering are all counted:
  - small: the example document `docs/examples/operation-snail-trail.md`;
  - large: a generated tracker of 50 phases and 5,000 tasks (`tracker.lib.samples.large_document`),
    plus what an import does not give it: 100 blockers (half resolved) and an activity log of
    5,000 entries; its admin is in 50 operations (it and 49 empty ones), so `/api/operations/` lists
    a full page. Large lists are what catch a query per row: one row of each can't.
  - trivial: an API view returning `{}` behind the same authentication and throttles, the
    baseline: what any API request costs on this machine before an endpoint does anything.
Each operation has its own admin (the small one's is in that operation only).

Small, large and the baseline are interleaved in every round, so machine noise hits them alike.
Figures are medians, and ratios to the baseline and to the small operation, never absolute claims.

The number of queries of a list endpoint must not depend on the size of the operation (no query
per row): the script exits with status 1 if any endpoint's count differs between small and large.

    python bench/api.py [--repeat 15] [--database-url postgres://postgres@127.0.0.1/bench]

Uses a throwaway SQLite file unless --database-url is given (that database is created and dropped).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types

from benchdb import ROOT, bench_database

TRIVIAL_PATH = "/bench/api-trivial/"
ENDPOINTS = {
    "operations": "/api/operations/",
    "tasks ?page_size=50": "/api/operations/{slug}/tasks/?page_size=50",
    "tasks ?page_size=500": "/api/operations/{slug}/tasks/?page_size=500",
    "findings": "/api/operations/{slug}/findings/",
    "blockers": "/api/operations/{slug}/blockers/",
    "activity": "/api/operations/{slug}/activity/",
    "phases": "/api/operations/{slug}/phases/",
    "summary": "/api/operations/{slug}/summary/",
}


def bench_urlconf():
    """A urlconf module: the trivial API view's path next to the project's own patterns."""
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    import config.urls

    class Trivial(APIView):
        def get(self, request):
            return Response({})

    module = types.ModuleType("bench_api_urls")
    module.urlpatterns = [path(TRIVIAL_PATH.strip("/") + "/", Trivial.as_view()), *config.urls.urlpatterns]
    for name in ("handler403", "handler404", "handler500"):
        if hasattr(config.urls, name):
            setattr(module, name, getattr(config.urls, name))
    sys.modules[module.__name__] = module
    return module.__name__


def rows_of(data) -> int:
    if isinstance(data, dict) and "results" in data:
        return len(data["results"])
    if isinstance(data, dict) and "phases" in data:  # the summary
        return len(data["phases"]) + len(data["open_blockers"])
    return len(data) if isinstance(data, list) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--phases", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--blockers", type=int, default=100)
    parser.add_argument("--activity", type=int, default=5000)
    parser.add_argument("--operations", type=int, default=50, help="the large admin's operations")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    cleanup = bench_database(args.database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tracker import services
    from tracker.importers import import_document
    from tracker.lib.samples import large_document
    from tracker.models import ActivityEntry, Blocker

    small_data = (ROOT / "docs" / "examples" / "operation-snail-trail.md").read_bytes()
    large_data = large_document(phases=args.phases, tasks=args.tasks).encode()
    workspace = services.workspace_create(name="Bench", actor=None)
    operations = {
        "small": import_document(data=small_data, actor=None, workspace=workspace),
        "large": import_document(data=large_data, actor=None, workspace=workspace),
    }
    clients = {}
    for size, operation in operations.items():
        user = get_user_model().objects.create_user(f"bench-{size}", f"{size}@example.com", "bench-password")
        services.workspace_member_set(workspace=workspace, user=user, role="member", actor=None)
        services.membership_set(operation=operation, user=user, role="admin", actor=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        clients[size] = client
    large, owner = operations["large"], get_user_model().objects.get(username="bench-large")
    Blocker.objects.bulk_create(
        Blocker(
            operation=large,
            title=f"Blocker {index}",
            impact="Slows the rollout",
            state=Blocker.State.RESOLVED if index % 2 else Blocker.State.OPEN,
            severity=Blocker.Severity.SECONDARY,
            position=index + 1,
        )
        for index in range(args.blockers)
    )
    ActivityEntry.objects.bulk_create(
        ActivityEntry(
            operation=large,
            actor=owner,
            actor_name=owner.username,
            action=ActivityEntry.Action.UPDATED,
            subject_type="task",
            subject_label=f"Task {index}",
            changes={"done": [False, True]},
        )
        for index in range(args.activity)
    )
    for index in range(args.operations - 1):
        services.operation_create(workspace=workspace, name=f"Operation Empty {index:02}", actor=owner)

    # The test client's host is "testserver"; setup_test_environment would allow it, but it also
    # instruments template rendering, which we don't want.
    with override_settings(ROOT_URLCONF=bench_urlconf(), ALLOWED_HOSTS=["testserver"]):
        requests = {("trivial", "baseline"): (clients["small"], TRIVIAL_PATH)}
        for name, template in ENDPOINTS.items():
            for size, operation in operations.items():
                requests[(name, size)] = (clients[size], template.format(slug=operation.slug))

        def get(key):
            client, path = requests[key]
            response = client.get(path)
            assert response.status_code == 200, f"{path}: {response.status_code} {response.content[:300]!r}"
            return response

        queries, rows, sizes = {}, {}, {}
        for key in requests:
            with CaptureQueriesContext(connection) as captured:
                response = get(key)
            queries[key] = len(captured)
            rows[key] = rows_of(response.json())
            sizes[key] = len(response.content)

        for _ in range(args.warmup):
            for key in requests:
                get(key)
        samples = {key: [] for key in requests}
        for _ in range(args.repeat):
            for key in requests:
                start = time.perf_counter()
                get(key)
                samples[key].append(time.perf_counter() - start)

    seconds = {key: statistics.median(values) for key, values in samples.items()}
    trivial = seconds[("trivial", "baseline")]
    print(
        f"database: {connection.vendor}; small: {operations['small'].name!r} ({len(small_data):,} bytes); "
        f"large: {args.phases} phases, {args.tasks} tasks ({len(large_data):,} bytes)"
    )
    print(f"median of {args.repeat} requests each, interleaved, after {args.warmup} warm-up rounds; token auth")
    print(
        f"trivial API view (baseline): {trivial * 1000:.2f} ms, {1 / trivial:.0f} req/s, "
        f"{queries[('trivial', 'baseline')]} queries"
    )
    header = (
        f"{'endpoint':22} {'small req/s':>11} {'large req/s':>11} {'large/small':>11} "
        f"{'small/triv':>10} {'large/triv':>10} {'queries s/l':>11} {'rows s/l':>9} {'bytes large':>11}"
    )
    print(header)
    mismatches = []
    for name in ENDPOINTS:
        small, large = seconds[(name, "small")], seconds[(name, "large")]
        q_small, q_large = queries[(name, "small")], queries[(name, "large")]
        if q_small != q_large:
            mismatches.append(f"{name}: {q_small} queries on the small operation, {q_large} on the large one")
        counts = f"{q_small}/{q_large}"
        returned = f"{rows[(name, 'small')]}/{rows[(name, 'large')]}"
        print(
            f"{name:22} {1 / small:11.0f} {1 / large:11.0f} {large / small:11.2f} "
            f"{small / trivial:10.1f} {large / trivial:10.1f} {counts:>11} {returned:>9} {sizes[(name, 'large')]:11,}"
        )

    cleanup()
    connection.close()
    if mismatches:
        print("FAIL: the query count depends on the size of the operation:")
        for line in mismatches:
            print(f"  {line}")
        return 1
    print("query counts: the same for the small and the large operation on every endpoint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
