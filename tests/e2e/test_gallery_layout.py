"""The gallery's layout in Chromium (issue 14 item 7): a prompt made by one model shows one
poster of the same size as everyone else's, and a date-range error keeps the filters in line."""

import pytest

from webapp.studio.models import GenerationJob, JobState
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e


def test_posters_keep_one_size_and_a_filter_error_keeps_the_fields_in_line(page, site, celery_procs):
    submit_prompt(PromptInput(text="One model only: a lighthouse at dusk", models=["demo-aurora"], duration_s=2))
    submit_prompt(PromptInput(text="Every model: a lighthouse at dawn", duration_s=2))
    wait_for(
        lambda: set(GenerationJob.objects.values_list("state", flat=True)) == {JobState.SUCCEEDED},
        timeout=120,
        what="the demo clips",
        logs=celery_procs.logs,
    )
    page.goto(f"{site}/")
    widths = {}
    for tile in page.locator(".prompt-tile").all():
        text = tile.locator(".prompt-text").inner_text()
        widths[text] = [p.bounding_box()["width"] for p in tile.locator(".posters > *").all()]
    one, every = widths["One model only: a lighthouse at dusk"], widths["Every model: a lighthouse at dawn"]
    assert len(one) == 1 and len(every) == 3
    assert abs(one[0] - every[0]) < 2, f"one model's poster is {one[0]:.0f} px wide, the others {every[0]:.0f} px"

    page.goto(f"{site}/?since=2024-05-02&until=2024-05-01")
    page.locator("[data-filter-errors]").wait_for()
    bottoms = {
        name: page.locator(f"[name={name}]").bounding_box()
        for name in ("q", "model", "category", "status", "since", "until", "sort")
    }
    rows = {round(box["y"] + box["height"]) for box in bottoms.values()}
    # The fields sit on at most two rows (as without an error), each row's bottoms level.
    assert len(rows) <= 2, bottoms
    screenshot(page, "gallery-filter-error", full_page=True)
