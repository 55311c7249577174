"""Screenshots of the pages a newcomer sees first, at a laptop's width (1366 px) and a
phone's (390 px), taken with Debian's Chromium against a running Screentest (`scripts/up.sh`
with its demo content, once the demo jobs have finished).

    python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out docs/screenshots]

Writes home, battle, leaderboard and models-compare, each as <name>-1366.png and <name>-390.png.
The battle is a real one: the browser passes the arena's entry check and waits until both
clips are prepared and playing. A fresh install has no votes, so its leaderboard is empty:
`--votes N` first casts N real votes through the arena (each after both clips played through);
the board appears once the worker recomputes it (every RATINGS_INTERVAL_S, or at once with
`manage.py recompute_ratings`) and a model has LEADERBOARD_MIN_VOTES counted votes."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

WIDTHS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def wait_for(page: Page, expression: str, timeout_s: float = 90) -> None:
    """Poll over DevTools (the site's CSP refuses Playwright's eval-based wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {expression}")
        time.sleep(0.1)


def battle(page: Page, base: str) -> None:
    page.goto(f"{base}/arena?pool=official")
    wait_for(page, "!document.querySelector('[data-start-button]').disabled")
    page.get_by_role("button", name="Start voting").click()
    page.locator("[data-battle]").wait_for(timeout=120_000)
    # Both clips have a first frame, a second into playback.
    wait_for(page, "[...document.querySelectorAll('video')].every(v => v.readyState >= 2 && v.currentTime > 1)")
    page.evaluate("[...document.querySelectorAll('video')].forEach(v => v.pause())")


def vote(page: Page, base: str, count: int) -> None:
    battle(page, base)
    cast = 0
    for _ in range(count * 3):  # bounded: a battle that cannot be prepared is skipped
        if cast == count:
            break
        if page.locator("[data-battle]").count():
            page.evaluate("[...document.querySelectorAll('video')].forEach(v => v.play())")
            wait_for(page, "!document.querySelector('button.vote').disabled")
            page.locator("button.vote").nth(cast % 3).click()  # left, right, tie in turn
            page.locator("[data-reveal]").wait_for()
            cast += 1
        page.goto(f"{base}/arena?pool=official")
        try:
            page.locator("[data-battle]").wait_for(timeout=60_000)
        except PlaywrightTimeout:
            continue
    print(f"{cast} votes cast")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))
    parser.add_argument("--votes", type=int, default=0, help="cast this many real votes first")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "home": lambda page: page.goto(f"{args.base}/"),
        "battle": lambda page: battle(page, args.base),
        "leaderboard": lambda page: page.goto(f"{args.base}/leaderboard"),
        "models-compare": lambda page: page.goto(f"{args.base}/models/compare"),
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        if args.votes:
            context = browser.new_context(viewport=WIDTHS[1366])
            vote(context.new_page(), args.base, args.votes)
            context.close()
        for width, viewport in WIDTHS.items():
            phone = width < 600
            context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=1)
            page = context.new_page()
            for name, visit in pages.items():
                visit(page)
                page.wait_for_load_state("networkidle")  # posters and clips in view have loaded
                path = out / f"{name}-{width}.png"
                page.screenshot(path=str(path))
                print(path)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
