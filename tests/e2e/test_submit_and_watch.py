"""A visitor submits a prompt in Chromium, watches the clips arrive without reloading, plays
and seeks each one."""

import pytest

from tests.e2e.waiting import wait_until
from webapp.studio.models import Prompt

from .conftest import screenshot

pytestmark = pytest.mark.e2e

SEEK_TO = 1.5


def test_prompt_in_the_browser_yields_a_playable_seekable_clip_per_demo_model(page, site):
    page.goto(f"{site}/new")
    checked = page.locator("input[name=models]:checked")
    assert checked.count() == 3  # every enabled model is selected by default
    page.get_by_label("Prompt").fill("A golden sun setting over slow ocean waves")
    page.get_by_label("Duration (seconds)").fill("3")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url(f"{site}/p/**")
    prompt = Prompt.objects.get()
    assert page.locator(".job-card").count() == 3
    # The cards fill in live: htmx swaps each one as its job finishes, no reload.
    page.locator("video").nth(2).wait_for(timeout=120_000)
    wait_until(page, "document.querySelectorAll('.job-card.state-succeeded').length === 3", timeout=60_000)
    assert page.url.endswith(prompt.public_id)

    videos = page.locator("video")
    for index in range(videos.count()):
        video = videos.nth(index)
        assert video.evaluate("v => v.canPlayType('video/mp4; codecs=\"avc1.64001F\"')") != ""
        video.evaluate("v => v.play()")
        wait_until(page, "v => v.currentTime > 0.3 && !v.error", arg=video.element_handle(), timeout=20_000)
        video.evaluate("v => v.pause()")
        video.evaluate(
            """(v, t) => new Promise(resolve => {
            v.addEventListener('seeked', resolve, {once: true}); v.currentTime = t; })""",
            SEEK_TO,
        )
        page.wait_for_timeout(300)
        position = video.evaluate("v => v.currentTime")
        assert abs(position - SEEK_TO) < 0.1, f"video {index} snapped back to {position}"
        assert video.evaluate("v => v.seekable.length > 0 && v.seekable.end(0) > 2.5")
    screenshot(page, "prompt-page", full_page=True)

    page.goto(f"{site}/")
    assert page.locator(".prompt-tile").count() == 1
    assert page.locator(".prompt-tile img").count() == 3
    screenshot(page, "gallery", full_page=True)
