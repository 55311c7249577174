"""The submitter cancels one job from its card in the browser: htmx posts the form with its
CSRF token and swaps in the final card, without a reload; the other jobs are untouched. A held
prompt keeps its jobs unfinished for as long as the test needs, with no worker running."""

import pytest

from webapp.studio.models import GenerationJob, JobState, Prompt

pytestmark = pytest.mark.e2e


def test_the_submitter_cancels_a_job_from_its_card(page, site):
    page.goto(f"{site}/new")
    page.get_by_label("Prompt").fill("Elon Musk riding a horse on Mars")
    page.get_by_label("Duration (seconds)").fill("2")
    page.get_by_role("button", name="Generate").click()
    page.locator("[data-moderation=held]").wait_for()
    held = Prompt.objects.get(moderation="held")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    first = page.locator(".job-card").first
    job_id = int(first.get_attribute("id").removeprefix("job-"))
    first.locator("[data-cancel]").click()
    page.locator(f"#job-{job_id}.state-cancelled").wait_for(timeout=10_000)
    assert page.locator(f"#job-{job_id} [data-cancel]").count() == 0
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    states = dict(GenerationJob.objects.filter(prompt=held).values_list("pk", "state"))
    assert states.pop(job_id) == JobState.CANCELLED
    assert set(states.values()) == {JobState.HELD}
