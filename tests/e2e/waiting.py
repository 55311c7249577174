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
