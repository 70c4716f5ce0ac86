"""What each middleware costs per request, before and after issue #18's cheaper stack.

The WSGI app is called in-process (no server, no socket), once per request, for a handful of
route shapes:
  - probe: `GET /healthz` (no database);
  - inference: `GET /v2/health/live` (the /v2 routes' stack; predictions are bench/inference.py's);
  - API+token: `GET /api/` (the API root: the token checked, no rows) with `Authorization: Token <key>`;
  - login page: `GET /accounts/login/`, anonymous, with its CSRF-protected form;
  - page+session: `GET /accounts/password_change/`, a logged-in user's form, by session cookie.

Two stacks are measured side by side in the same run, and against no middleware at all:
  - before: Django's session, authentication and message middleware and django-csp's CSPMiddleware;
  - after: `settings.MIDDLEWARE` (core.csp.CSPMiddleware builds each policy once;
    core.middleware skips sessions, the user and messages on the routes that use none).
A middleware's cost is its stack's time minus the time of the same stack without it: each one of
the after stack, and the ones that differ in the before stack. Sessions, authentication and
messages are also taken out together (authentication and messages need the session). Every
middleware is taken out on the cheap routes (--detailed: the probe and inference, where the stack is
most of the request); on the millisecond ones, only what issue #18 changed and the whole stacks.

Times are the CPU time of the thread per request (`time.thread_time_ns`), so other processes on a
shared machine slow the run down without inflating the figures as much as wall time would. Each
difference (a stack and the same stack without one middleware; after and before; a stack and no
middleware) is timed back to back, per route, in every round, in an order rotated each round and
with the two sides swapped every other round; the figures are medians over the rounds. Every
response's status is checked against the full stack's first: a stack that breaks a route
(authentication without sessions, on the logged-in page) is reported as such, not timed as a cheap
error. Settings are production's where they matter (WhiteNoise reads its files once, the model
registry is cached for MLSERVICE_REFRESH_SECONDS, one database connection is kept); the database
is a throwaway SQLite file.

Each cell runs about --cell-ms milliseconds of CPU per round (the request count is set from a
first timing of the route), so cheap routes get many requests and dear ones few.

    python bench/middleware.py [--rounds 11] [--cell-ms 30] [--detailed probe,inference]
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict

from benchdb import bench_database

BEFORE = [
    "core.request_id.RequestIdMiddleware",
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.http_errors.BodySizeLimit",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
SESSION_GROUP = ("SessionMiddleware", "AuthenticationMiddleware", "MessageMiddleware")
GROUP_LABEL = "sessions + auth + messages"


def short(dotted: str) -> str:
    return dotted.rsplit(".", 1)[1]


def variants(stack: list[str], only: set[str] | None = None) -> dict[str, list[str]]:
    """The stack whole, without each removable middleware (of `only`, when given), and without
    the session group."""
    out = {"full": list(stack)}
    for name in stack:
        if short(name) == "SessionMiddleware" or (only is not None and name not in only):
            continue  # authentication and messages need the session: it is measured as the group
        out["-" + short(name)] = [other for other in stack if other != name]
    out["-" + GROUP_LABEL] = [other for other in stack if short(other) not in SESSION_GROUP]
    return out


def make_environ(path: str, **headers: str) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update(headers)
    return environ


def call(app, template: dict) -> str:
    """One request through the WSGI app; its status line."""
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    status = []
    body = app(environ, lambda line, headers, exc_info=None: status.append(line))
    for _ in body:
        pass
    body.close()
    return status[0]


def time_cell(app, template: dict, requests: int) -> float:
    """CPU µs per request of `requests` requests."""
    gc.collect()
    gc.disable()  # a collection lands on whichever cell allocates past the threshold: noise
    try:
        start = time.thread_time_ns()
        for _ in range(requests):
            call(app, template)
        return (time.thread_time_ns() - start) / requests / 1000
    finally:
        gc.enable()


def build_fixture():
    """A user with a token and a session in a workspace with the example operation; the routes."""
    from benchdb import ROOT
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tracker import services
    from tracker.importers import import_document

    workspace = services.workspace_create(name="Bench", actor=None)
    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password")
    services.workspace_member_set(workspace=workspace, user=user, role="admin", actor=None)
    example = (ROOT / "docs" / "examples" / "operation-snail-trail.md").read_bytes()
    import_document(data=example, actor=None, workspace=workspace)
    token = Token.objects.create(user=user).key
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "probe": make_environ("/healthz"),
        "inference": make_environ("/v2/health/live"),
        "API+token": make_environ("/api/", HTTP_AUTHORIZATION=f"Token {token}"),
        "login page": make_environ("/accounts/login/"),
        "page+session": make_environ(
            "/accounts/password_change/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session}"
        ),
    }


def build_apps(stacks: dict[str, dict[str, list[str]]]) -> dict[tuple[str, str], object]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    apps = {("none", "none"): None}
    for stack, named in stacks.items():
        for variant, middleware in named.items():
            with override_settings(MIDDLEWARE=middleware):
                apps[(stack, variant)] = WSGIHandler()
    with override_settings(MIDDLEWARE=[]):
        apps[("none", "none")] = WSGIHandler()
    return apps


def comparisons(stacks, detailed: bool) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """(reference, other) app keys whose times are taken back to back, and subtracted. On a route
    that is not `detailed`, only the whole stacks and what issue #18 changed (the CSP middleware,
    the session group): a millisecond route hides a few µs in its noise unless it is run long."""
    pairs = [(("after", "full"), ("before", "full"))]
    pairs += [((stack, "full"), ("none", "none")) for stack in stacks]
    changed = ("-CSPMiddleware", "-" + GROUP_LABEL)
    pairs += [
        ((stack, "full"), (stack, variant))
        for stack, named in stacks.items()
        for variant in named
        if variant != "full" and (detailed or variant in changed)
    ]
    return pairs


def measure(apps, routes, stacks, rounds: int, cell_ms: float, detailed: set[str]):
    """Per route, every comparison timed back to back in each round (in a rotated order, the
    reference first in even rounds and second in odd ones). Returns the times per (app, route),
    the differences per (reference, other, route), the statuses that differ from the full stack's,
    and the requests per cell of each route."""
    full = apps[("after", "full")]
    expected = {route: call(full, environ) for route, environ in routes.items()}
    for environ in routes.values():
        time_cell(full, environ, 5)  # warm: the first requests load templates, fill caches
    counts = {route: max(10, int(cell_ms * 1000 / time_cell(full, environ, 10))) for route, environ in routes.items()}
    broken = {}
    for key, app in apps.items():
        for route, environ in routes.items():
            status = call(app, environ)  # also the warm-up
            if status != expected[route]:
                broken[(key, route)] = status
    times, differences = defaultdict(list), defaultdict(list)
    for number in range(rounds):
        for route, environ in routes.items():
            pairs = comparisons(stacks, route in detailed)
            shift = number * len(pairs) // rounds
            for reference, other in pairs[shift:] + pairs[:shift]:
                if (reference, route) in broken or (other, route) in broken:
                    continue
                order = (reference, other) if number % 2 == 0 else (other, reference)
                taken = {key: time_cell(apps[key], environ, counts[route]) for key in order}
                times[(reference, route)].append(taken[reference])
                times[(other, route)].append(taken[other])
                differences[(reference, other, route)].append(taken[reference] - taken[other])
        print(f"round {number + 1}/{rounds} done", file=sys.stderr)
    return times, differences, broken, counts


def median_of(samples: dict, key) -> float | None:
    values = samples.get(key)
    return statistics.median(values) if values else None


def report(times, differences, broken, routes, stacks) -> None:
    names = list(routes)
    print("\n### µs of CPU per request (median), whole stack\n")
    print("| stack | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for key in (("none", "none"), ("before", "full"), ("after", "full")):
        cells = [value_or_na(median_of(times, (key, route)), "{:.0f}") for route in names]
        print(f"| {key[0]} | " + " | ".join(cells) + " |")
    for top, bottom, label in (
        (("after", "full"), ("before", "full"), "after / before"),
        (("before", "full"), ("none", "none"), "before / no middleware"),
        (("after", "full"), ("none", "none"), "after / no middleware"),
    ):
        cells = []
        for route in names:
            a, b = median_of(times, (top, route)), median_of(times, (bottom, route))
            cells.append(f"{a / b:.2f}x" if a and b else "n/a")
        print(f"| {label} | " + " | ".join(cells) + " |")
    paired = [cost(differences, broken, ("after", "full"), ("before", "full"), route) for route in names]
    print("| after − before, µs (back to back) | " + " | ".join(paired) + " |")

    print("\n### µs of CPU each middleware costs (the stack's time minus the same stack's without it,")
    print("back to back, median of the rounds; before → after where the two stacks differ)\n")
    print("| middleware | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for variant in [variant for variant in stacks["after"] if variant != "full"]:
        cells = []
        for route in names:
            after = cost(differences, broken, ("after", "full"), ("after", variant), route)
            if variant in stacks["before"]:
                after = f"{cost(differences, broken, ('before', 'full'), ('before', variant), route)} → {after}"
            cells.append(after)
        print(f"| {variant[1:]} | " + " | ".join(cells) + " |")
    totals = [
        f"{cost(differences, broken, ('before', 'full'), ('none', 'none'), route)} → "
        f"{cost(differences, broken, ('after', 'full'), ('none', 'none'), route)}"
        for route in names
    ]
    print("| **whole stack** (minus no middleware) | " + " | ".join(totals) + " |")
    for ((stack, variant), route), status in sorted(broken.items()):
        print(f"\n{stack} {variant} {route}: answered {status!r}, not the full stack's status (not timed)", end="")
    print()


def value_or_na(value: float | None, form: str) -> str:
    return "n/a" if value is None else form.format(value)


def cost(differences, broken, reference, other, route) -> str:
    if (other, route) in broken:
        return "breaks"
    return value_or_na(median_of(differences, (reference, other, route)), "{:.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--cell-ms", type=float, default=30.0, help="ms of CPU per cell and round")
    parser.add_argument(
        "--detailed",
        default="probe,inference",
        help="routes on which every middleware is taken out in turn (the others: the whole stacks, CSP, sessions)",
    )
    args = parser.parse_args()

    os.environ.setdefault("WHITENOISE_STATIC_ROOT", tempfile.mkdtemp(prefix="snailtrail-bench-static-"))
    cleanup = bench_database()
    from django.conf import settings
    from django.test import override_settings

    from config.settings import base

    production_like = override_settings(
        DEBUG=False,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
        STATIC_ROOT=os.environ["WHITENOISE_STATIC_ROOT"],
        MLSERVICE_REFRESH_SECONDS=base.MLSERVICE_REFRESH_SECONDS,
        MLSERVICE_INFER_RATE=base.MLSERVICE_INFER_RATE,
    )
    production_like.enable()
    # One connection for the whole run, as production's CONN_MAX_AGE keeps one (SQLite's would
    # otherwise be opened again, with its PRAGMAs, on every request).
    from django.db import connection

    connection.settings_dict["CONN_MAX_AGE"] = None
    try:
        after = list(settings.MIDDLEWARE)
        stacks = {"before": variants(BEFORE, only=set(BEFORE) - set(after)), "after": variants(after)}
        routes = build_fixture()
        apps = build_apps(stacks)
        times, differences, broken, counts = measure(
            apps, routes, stacks, args.rounds, args.cell_ms, set(args.detailed.split(","))
        )
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(
            f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average at the end {load}, "
            f"{args.rounds} rounds; requests per cell and round: {counts}"
        )
        report(times, differences, broken, routes, stacks)
    finally:
        production_like.disable()
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
