"""Playwright driving Debian's Chromium (never a downloaded browser) against the production
stack run locally: gunicorn serving the site and a real Celery worker, on the test run's stack
(PostgreSQL + Redis, or the embedded defaults: SQLite, the filesystem broker, the file cache)."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.integration.conftest import celery_procs, collected_static, wait_for  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (scripts/test.sh does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def site(celery_procs, collected_static):
    """Base URL of a gunicorn server and one worker, on this test's database and media."""
    from webapp.catalog.services import load_catalog

    load_catalog()
    celery_procs.worker("e2e@localhost", env=ARENA_ENV)
    return celery_procs.web(collected_static, env=ARENA_ENV)


# A quicker entry check and smaller battle renditions than production's (the rules are the same).
ARENA_ENV = {"ARENA_POW_BITS": "14", "ARENA_CANVAS_SHORT_SIDE": "180", "ARENA_FPS": "24"}


def screenshot(page, name: str, **kwargs) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    return path
