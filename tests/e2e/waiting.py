"""Waiting for a condition in the page without `page.wait_for_function`: Playwright evaluates
that predicate with eval() inside the page, which the site's Content-Security-Policy (no
'unsafe-eval') refuses. `page.evaluate` runs over the DevTools protocol, outside the page's
CSP, so polling it from here tests the pages under the policy they really have."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page


def wait_until(page: Page, expression: str, *, arg: Any = None, timeout: float = 30_000, interval_s: float = 0.05):
    """Poll `expression` (a JS expression, or a function of `arg`) until it is truthy."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:g}s waiting for: {expression}")
        time.sleep(interval_s)


def csp_violations(page: Page) -> list[str]:
    """A list that collects every Content-Security-Policy violation the page reports from now
    on (the browser logs each one to the console): a page that needs an inline script or style
    shows up here."""
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    return found


def enter_arena(page: Page, site: str, pool: str = "official") -> None:
    """Open the arena as a new visitor: the browser runs the entry check, the visitor starts
    voting, and the first battle's clips are prepared by the worker."""
    page.goto(f"{site}/arena?pool={pool}")
    start = page.get_by_role("button", name="Start voting")
    wait_until(page, "!document.querySelector('[data-start-button]').disabled", timeout=30_000)
    start.click()
    page.locator("[data-battle]").wait_for(timeout=60_000)
