"""A voter in Chromium: both clips play under one transport and stay in sync after a seek,
the choices unlock only after both played through, a key press votes, names are revealed,
and the leaderboard shows the result."""

import pytest
from django.test import override_settings

from tests.e2e.waiting import csp_violations, enter_arena, wait_until
from webapp.arena.models import Vote
from webapp.arena.services import board
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e


def official_prompt_with_clips(text: str, logs) -> Prompt:
    prompt = submit_prompt(PromptInput(text=text, duration_s=2, seed=3), source=Prompt.Source.SUITE)
    Prompt.objects.filter(pk=prompt.pk).update(pool=Prompt.Pool.OFFICIAL, category="scenery")
    wait_for(
        lambda: all(j.state == JobState.SUCCEEDED for j in GenerationJob.objects.filter(prompt=prompt)),
        timeout=120,
        what="the demo clips",
        logs=logs,
    )
    return prompt


def test_blind_vote_in_the_browser(page, site, celery_procs):
    official_prompt_with_clips("Snow drifting over a quiet mountain village", celery_procs.logs)
    violations = csp_violations(page)
    enter_arena(page, site)
    vote_buttons = page.locator("button.vote")
    assert vote_buttons.count() == 4
    assert all(vote_buttons.nth(i).is_disabled() for i in range(4))
    html = page.content()
    for name in ("Aurora", "Lumen", "Pixel", "demo-"):
        assert name not in html

    # One transport: seek both, and they agree.
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)")
    page.evaluate("document.querySelector('[data-sync-player]').syncPlayer.pause()")
    page.evaluate("document.querySelector('[data-sync-player]').syncPlayer.seekTo(1.2)")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.seeking)")
    page.wait_for_timeout(300)
    times = page.evaluate("[...document.querySelectorAll('video')].map(v => v.currentTime)")
    assert abs(times[0] - 1.2) < 0.1 and abs(times[0] - times[1]) < 0.1, times
    screenshot(page, "battle")

    # Sound: both start muted, each side has the same Sound button, one side audible at a time.
    videos = "[...document.querySelectorAll('video')]"
    assert page.evaluate(f"{videos}.every(v => v.muted)")
    page.get_by_role("button", name="Sound of the left clip").click()
    wait_until(page, f"{videos}.map(v => v.muted).join() === 'false,true'")
    page.get_by_role("button", name="Sound of the right clip").click()
    wait_until(page, f"{videos}.map(v => v.muted).join() === 'true,false'")  # volumechange mutes the other
    assert page.get_by_role("button", name="Sound of the right clip").get_attribute("aria-pressed") == "true"

    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(1000)
    drift = page.evaluate("document.querySelector('[data-sync-player]').syncPlayer.maxDrift()")
    assert drift < 0.1, f"players drifted {drift:.3f} s apart while playing"
    # Voting unlocks once both clips have played through (2 s clips, looping).
    wait_until(page, "!document.querySelector('button.vote').disabled", timeout=20_000)
    page.keyboard.press("1")
    page.locator("[data-reveal]").wait_for()
    revealed = page.locator("[data-model]").all_inner_texts()
    assert len(revealed) == 2 and all("procedural demo" in name for name in revealed)
    assert "Left:" in page.locator("#left-caption").inner_text()
    screenshot(page, "reveal")

    vote = Vote.objects.get()
    assert vote.winner == "model_a" and vote.excluded_reason == ""
    assert (
        vote.watched_left_s >= 1.75 and vote.watched_right_s >= 1.75
    )  # played through (the page unlocks 0.25 s before the end)
    assert vote.model_a.label == revealed[0]

    with override_settings(LEADERBOARD_MIN_VOTES=1, RATING_BOOTSTRAP_ROUNDS=200):
        board.recompute("official")
    page.get_by_role("link", name="Next battle").click()
    page.wait_for_url(f"{site}/arena**")
    page.goto(f"{site}/leaderboard")
    rows = page.locator("table.board:not([data-controlled-board]) tbody tr")
    assert rows.count() == 2
    assert vote.model_a.display_name in rows.nth(0).inner_text()  # the winner leads
    screenshot(page, "leaderboard", full_page=True)
    # Battle, reveal and leaderboard work under the site's CSP: nothing inline was needed.
    assert violations == []


def test_report_from_the_vote_page(page, site, celery_procs):
    from webapp.moderation.models import Report

    official_prompt_with_clips("A green bird flying over a river", celery_procs.logs)
    enter_arena(page, site)
    page.get_by_text("Report this content").click()
    page.get_by_role("radio", name="Right clip").check()
    page.get_by_label("Reason").select_option("broken")
    page.get_by_role("button", name="Send report").click()
    page.locator("[data-report-done]").wait_for()
    assert "moderator" in page.locator("[data-report-done]").inner_text()
    report = Report.objects.get()
    assert report.reason == "broken" and report.clip is not None
