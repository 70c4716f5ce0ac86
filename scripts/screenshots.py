"""Take the README's screenshots of a running Snail Trail: the operation list, the dashboard (its first
screen, and the whole page as `-full`), the import page and the sharing page, at laptop (1280x800) and
phone (390x844) size, in the light and the dark theme (Chromium's prefers-color-scheme emulation),
and the dashboard's Live checks and ML endpoints panels.

    make run &    # then, with the password it printed:
    .venv/bin/python scripts/screenshots.py --password PASSWORD [--url http://127.0.0.1:8000]

Needs Debian's Chromium (/usr/bin/chromium) and the playwright package from requirements-dev.txt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SCHEMES = ("light", "dark")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def pages(slug: str) -> dict[str, str]:
    """Each screenshot's name and the path it shows."""
    return {
        "home": "/",
        "dashboard": f"/operations/{slug}/",
        "import": "/import/",
        "sharing": f"/operations/{slug}/sharing/",
    }


def shoot(page, name: str, *, full_page: bool = True) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(path.relative_to(OUT.parent.parent))


def panels(page, scheme: str) -> None:
    """The dashboard's Live checks (make run's demo AWS) and ML endpoints panels, alone."""
    # The sticky contents list would cover the top of a panel scrolled up to the window's edge.
    page.evaluate("document.querySelectorAll('.contents').forEach((nav) => { nav.style.position = 'static'; })")
    if page.locator("#checks").count():
        page.locator("#checks").screenshot(path=str(OUT / f"live-checks-{scheme}.png"))
        print(f"docs/screenshots/live-checks-{scheme}.png")
    if page.locator("#ml-endpoints").count():
        if page.locator("[data-chart=ml-latency]").count():
            page.wait_for_selector("[data-chart=ml-latency] svg")
        page.locator("#ml-endpoints").screenshot(path=str(OUT / f"ml-endpoints-{scheme}.png"))
        print(f"docs/screenshots/ml-endpoints-{scheme}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", required=True)
    parser.add_argument("--slug", default="operation-snail-trail")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for size, viewport in SIZES.items():
            for scheme in SCHEMES:
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                page.goto(f"{args.url}/accounts/login/")
                page.fill("#id_username", args.username)
                page.fill("#id_password", args.password)
                page.click("button[type=submit]")
                for name, path in pages(args.slug).items():
                    page.goto(f"{args.url}{path}")
                    if name == "dashboard":
                        page.wait_for_selector("[data-chart=burnup] svg")
                        page.wait_for_load_state("networkidle")
                        # What one sees first, then the whole page (charts drawn, fonts loaded).
                        shoot(page, f"{name}-{size}-{scheme}", full_page=False)
                        shoot(page, f"{name}-{size}-{scheme}-full")
                        if size == "laptop":
                            panels(page, scheme)
                    else:
                        shoot(page, f"{name}-{size}-{scheme}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
