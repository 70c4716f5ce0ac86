"""Weight and largest contentful paint of a cold load of the example's dashboard, served as in
production, in Chromium.

The stack, set up afresh by every run and thrown away after it: the production settings
(`config.settings.production`, through a one-line settings module in the run's temporary directory
that moves STATIC_ROOT there, as bench/load.py does), a SQLite database holding the example
operation (`setup_demo`) and an editor of it with a session, the static files collected
(CompressedManifestStaticFilesStorage: hashed names and .gz copies) and served by whitenoise under
gunicorn (`config/gunicorn.conf.py`, 2 workers). Plain http on one machine: DJANGO_SECURE_SSL_REDIRECT
is off, and the session cookie (Secure in production) is handed to the browser directly.

Every load is cold: a new browser context (an empty cache) in Debian's Chromium, driven by
Playwright, 1280x800. For each load:
  - bytes: what came over the wire, headers and (compressed) bodies of every response, and how many;
  - LCP: the last `largest-contentful-paint` entry (PerformanceObserver), read once the page is loaded
    and its charts are drawn;
  - charts: when the burn-up's svg was in the page, in ms since the navigation started.
Pages, loaded in turn --repeat times (the order rotated each round); figures are medians:
  - login: /accounts/login/, the baseline (our HTML and CSS, no script);
  - dashboard: /operations/operation-snail-trail/ as shipped, with plotly.js's basic bundle;
  - dashboard, full plotly.js: the same page with the request for the basic bundle answered by the
    full bundle of the same plotly.js version (npm's plotly.js-dist-min, fetched once into var/bench/
    and checked against the registry's sha512, put beside the collected files and compressed as they
    are): what the page weighed before. --no-full-bundle leaves it out.

Targets (exit 1 when missed, unless --no-targets): the dashboard transfers <= 1.5 MB and its LCP is
<= 1.5 s. It also checks that plotly.js is served under a hashed name with a year-long cache.

    python bench/page_weight.py [--repeat 5] [--no-full-bundle] [--no-targets]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from inference import BIN, HOST, ROOT, BenchError, clean_env, free_port, gunicorn, median, start, stop

SLUG = "operation-snail-trail"
SETTINGS_MODULE = "bench_page_weight_settings"  # written into the run's temporary directory
CHROMIUM = Path("/usr/bin/chromium")
TARGET_BYTES = 1_500_000
TARGET_LCP_MS = 1500.0
YEAR = 365 * 24 * 3600
FULL_BUNDLE = ("plotly.js-dist-min", "package/plotly.min.js")
CACHE = ROOT / "var" / "bench"

SETUP_SCRIPT = """
import io, json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from tracker.models import Membership, Operation, WorkspaceMembership
call_command("setup_demo", stdout=io.StringIO())
operation = Operation.objects.get(slug={slug!r})
user = get_user_model().objects.create_user("bench-page", "bench-page@example.com", None)
WorkspaceMembership.objects.create(workspace=operation.workspace, user=user)
Membership.objects.create(operation=operation, user=user, role=Membership.Role.EDITOR)
browser = Client()
browser.force_login(user)
print("BENCH-PAGE", json.dumps({{
    "name": settings.SESSION_COOKIE_NAME, "value": browser.cookies[settings.SESSION_COOKIE_NAME].value,
}}))
"""

# Runs before the page's own scripts (Playwright injects it; the page's CSP does not apply).
RECORD_LCP = """
window.__lcp = null;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const element = entry.element;
    window.__lcp = { ms: entry.startTime, element: element ? element.tagName.toLowerCase()
      + (element.id ? "#" + element.id : "") + (element.className ? "." + String(element.className).split(" ")[0] : "")
      : "?" };
  }
}).observe({ type: "largest-contentful-paint", buffered: true });
"""


@dataclass
class Load:
    page: str
    bytes: int
    requests: int
    lcp_ms: float
    lcp_element: str
    charts_ms: float | None
    plotly: dict[str, str] | None  # the plotly.js response: url, cache-control, content-encoding, bytes


@dataclass
class Page:
    name: str
    path: str
    logged_in: bool
    full_bundle: bool = False


def vendor_plotly():
    spec = importlib.util.spec_from_file_location("vendor_plotly", ROOT / "scripts" / "vendor_plotly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def full_bundle() -> Path:
    """plotly.js's full bundle of the pinned version, from the npm registry (once; kept in var/bench/)."""
    vendor = vendor_plotly()
    package, name = FULL_BUNDLE
    path = CACHE / f"{package}-{vendor.VERSION}.min.js"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(vendor.fetch(package, vendor.VERSION, [name])[name])
    return path


def prepare(workdir: Path, full: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """Settings, static files, migrations and content. -> (the server's environment, the session cookie)."""
    var, static = workdir / "var", workdir / "static"
    var.mkdir()
    (workdir / f"{SETTINGS_MODULE}.py").write_text(
        f"from config.settings.production import *  # noqa: F403\n\nSTATIC_ROOT = {str(static)!r}\n"
    )
    env = clean_env(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=str(workdir),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="false",
        SNAILTRAIL_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        LOG_LEVEL="WARNING",
    )
    python = str(BIN / "python")
    for step in (
        ["migrate", "--noinput", "-v", "0"],
        ["collectstatic", "--noinput", "-v", "0"],
        ["shell", "-c", SETUP_SCRIPT.format(slug=SLUG)],
    ):
        done = subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise BenchError(f"manage.py {step[0]} failed:\n{done.stdout}\n{done.stderr}")
    found = [line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("BENCH-PAGE ")]
    if not found:
        raise BenchError(f"the set-up printed nothing to go on:\n{done.stdout}\n{done.stderr}")
    if full is not None:
        from whitenoise.compress import Compressor

        target = static / "vendor" / "plotly-full.min.js"
        shutil.copyfile(full, target)
        list(Compressor(quiet=True).compress(str(target)))  # the .gz that collectstatic would have made
    return env, json.loads(found[0])


def wait_ready(url: str, server, timeout: float = 60.0) -> None:
    until = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn exited with status {server.process.returncode}:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310 - our own loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > until:
            raise BenchError(f"gunicorn did not answer within {timeout:.0f} s:\n{server.tail()}")
        time.sleep(0.2)


def load(browser, base: str, page: Page, cookie: dict[str, str]) -> Load:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        if page.logged_in:
            context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": base}])
        tab = context.new_page()
        tab.add_init_script(RECORD_LCP)
        finished = []
        tab.on("requestfinished", lambda request: finished.append(request))
        if page.full_bundle:
            full = f"{base}/static/vendor/plotly-full.min.js"
            tab.route("**/static/vendor/plotly-basic.*", lambda route: route.continue_(url=full))
        response = tab.goto(f"{base}{page.path}", wait_until="load")
        if response is None or response.status != 200:
            raise BenchError(f"{page.name}: {page.path} answered {response and response.status}")
        charts_ms = None
        if "/operations/" in page.path:
            tab.wait_for_selector("[data-chart=burnup] svg.main-svg", timeout=30_000)
            charts_ms = tab.evaluate("performance.now()")
        tab.wait_for_timeout(300)  # the last LCP entry and the favicon
        lcp = tab.evaluate("window.__lcp") or {"ms": float("nan"), "element": "none"}
        total, plotly = 0, None
        for request in finished:
            sizes = request.sizes()
            received = sizes["responseHeadersSize"] + sizes["responseBodySize"]
            total += received
            if "/vendor/plotly" in request.url:
                headers = request.response().all_headers()
                plotly = {
                    "url": request.url.removeprefix(base),
                    "cache-control": headers.get("cache-control", ""),
                    "content-encoding": headers.get("content-encoding", "identity"),
                    "bytes": str(received),
                }
        return Load(page.name, total, len(finished), lcp["ms"], lcp["element"], charts_ms, plotly)
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="cold loads of each page (default 5)")
    parser.add_argument("--no-full-bundle", action="store_true", help="skip the dashboard with the full plotly.js")
    parser.add_argument("--no-targets", action="store_true", help="report only; exit 0 even when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the run's temporary directory")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise BenchError(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    full = None if args.no_full_bundle else full_bundle()
    pages = [Page("login", "/accounts/login/", False), Page("dashboard", f"/operations/{SLUG}/", True)]
    if full is not None:
        pages.append(Page("dashboard, full plotly.js", f"/operations/{SLUG}/", True, full_bundle=True))
    workdir = Path(tempfile.mkdtemp(prefix="snailtrail-page-weight-"))
    server = None
    try:
        env, cookie = prepare(workdir, full)
        port = free_port()
        server = start(
            "gunicorn", "gunicorn", gunicorn("config.wsgi:application", port, 2, workdir), env, workdir, port
        )
        base = f"http://{HOST}:{port}"
        wait_ready(base, server)
        results: dict[str, list[Load]] = {page.name: [] for page in pages}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for page in pages:  # warm the server (templates, the first query): not counted
                load(browser, base, page, cookie)
            for round_ in range(args.repeat):
                for page in pages[round_ % len(pages) :] + pages[: round_ % len(pages)]:
                    results[page.name].append(load(browser, base, page, cookie))
            version = browser.version
            browser.close()
        return report(args, results, version)
    finally:
        if server is not None:
            stop(server)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(args: argparse.Namespace, results: dict[str, list[Load]], chromium: str) -> int:
    print(
        f"Cold loads in Chromium {chromium}, 1280x800, production settings under gunicorn (2 workers) with"
        f" whitenoise, plain http on 127.0.0.1; medians of {args.repeat} loads each. Bytes: headers and"
        " compressed bodies as received."
    )
    login = median([run.bytes for run in results["login"]])
    full = results.get("dashboard, full plotly.js")
    full_bytes = median([run.bytes for run in full]) if full else None
    print(
        "\n| page | requests | KB transferred | x login | x full plotly.js | LCP ms | LCP element | charts drawn ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for name, runs in results.items():
        size = median([run.bytes for run in runs])
        charts = [run.charts_ms for run in runs if run.charts_ms is not None]
        print(
            f"| {name} | {median([run.requests for run in runs]):.0f} | {size / 1000:,.1f} | {size / login:.3g}"
            f" | {f'{size / full_bytes:.2g}' if full_bytes else '-'} | {median([run.lcp_ms for run in runs]):.0f}"
            f" | {runs[-1].lcp_element} | {f'{median(charts):.0f}' if charts else '-'} |"
        )
    dashboard = results["dashboard"]
    plotly = dashboard[-1].plotly or {}
    print(
        f"\nplotly.js as served: {plotly.get('url')} ({plotly.get('content-encoding')},"
        f" {int(plotly.get('bytes', 0)) / 1000:,.1f} KB), Cache-Control: {plotly.get('cache-control')}"
    )
    size, lcp = median([run.bytes for run in dashboard]), median([run.lcp_ms for run in dashboard])
    missed = []
    if size > TARGET_BYTES:
        missed.append(f"the dashboard transfers {size / 1e6:.2f} MB (target <= {TARGET_BYTES / 1e6:.1f} MB)")
    if lcp > TARGET_LCP_MS:
        missed.append(f"the dashboard's LCP is {lcp:.0f} ms (target <= {TARGET_LCP_MS:.0f} ms)")
    url, cache = plotly.get("url", ""), plotly.get("cache-control", "")
    max_age = re.search(r"max-age=(\d+)", cache)
    if "plotly-basic.min.js" in url or not max_age or int(max_age[1]) < YEAR:
        missed.append(f"plotly.js is not served under a hashed name with a year-long cache: {url} {cache!r}")
    for line in missed:
        print(f"MISSED: {line}")
    if not missed:
        print("Targets met: <= 1.5 MB transferred, LCP <= 1.5 s, plotly.js hashed and cached for a year.")
    return 1 if missed and not args.no_targets else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench/page_weight.py: {error}")
