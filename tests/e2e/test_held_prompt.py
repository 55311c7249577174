"""A visitor's held prompt: the page notices a moderator's approval by itself (no reload), the
"awaits review" banner goes, the prompt's text and the "Compare in sync" link appear, and the
clips play as they finish."""

import pytest
from django.contrib.auth.models import User

from tests.e2e.waiting import wait_until
from webapp.moderation import decisions
from webapp.studio.models import GenerationJob, JobState, Prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e


def test_a_held_prompt_page_notices_approval_without_reload(page, site, celery_procs):
    page.goto(f"{site}/new")
    page.get_by_label("Prompt").fill("Elon Musk riding a horse on Mars")
    page.get_by_label("Duration (seconds)").fill("2")
    page.get_by_role("button", name="Generate").click()
    page.locator("[data-moderation=held]").wait_for()
    assert page.locator("[data-compare-link]").count() == 0
    held = Prompt.objects.get(moderation="held")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    decisions.approve_prompt(
        held.public_id, actor=User.objects.create_user("mia", password="x" * 20), reason="Satire, not a real event"
    )
    page.locator("[data-compare-link]").wait_for(timeout=20_000)
    assert page.locator("[data-moderation=held]").count() == 0
    assert "Elon Musk riding a horse on Mars" in page.locator("h1").inner_text()
    wait_for(
        lambda: set(GenerationJob.objects.filter(prompt=held).values_list("state", flat=True)) == {JobState.SUCCEEDED},
        timeout=120,
        what="the approved prompt's clips",
        logs=celery_procs.logs,
    )
    wait_until(page, "document.querySelectorAll('.job-card video').length === 3", timeout=20_000)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert "awaiting review" in page.locator(".job-card .facts").first.inner_text()
    screenshot(page, "held-prompt-approved")
