"""Take the README's screenshots of a running Snail Trail: the dashboard at laptop and phone width,
in the light and the dark theme, and its Live checks and ML endpoints panels.

    make run &    # then, with the password it printed:
    .venv/bin/python scripts/screenshots.py --password PASSWORD [--url http://127.0.0.1:8000]

Needs Debian's Chromium (/usr/bin/chromium) and the playwright package from requirements-dev.txt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


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
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport=viewport, color_scheme=scheme)
                page.goto(f"{args.url}/accounts/login/")
                page.fill("#id_username", args.username)
                page.fill("#id_password", args.password)
                page.click("button[type=submit]")
                page.goto(f"{args.url}/operations/{args.slug}/")
                page.wait_for_selector("[data-chart=burnup] svg")
                path = OUT / f"dashboard-{size}-{scheme}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path.relative_to(OUT.parent.parent))
                if size == "laptop" and page.locator("#checks").count():  # the live checks panel (make run's demo AWS)
                    path = OUT / f"live-checks-{scheme}.png"
                    page.locator("#checks").screenshot(path=str(path))
                    print(path.relative_to(OUT.parent.parent))
                if size == "laptop" and page.locator("#ml-endpoints").count():  # the demo model's endpoints
                    if page.locator("[data-chart=ml-latency]").count():
                        page.wait_for_selector("[data-chart=ml-latency] svg")
                    path = OUT / f"ml-endpoints-{scheme}.png"
                    page.locator("#ml-endpoints").screenshot(path=str(path))
                    print(path.relative_to(OUT.parent.parent))
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
