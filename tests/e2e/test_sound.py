"""A visitor in Chromium hears the clips' sound: every video starts muted, a clip's sound is
switched on by its controls (prompt page, clip page) or its Sound button (compare view), and
only one clip is audible at a time; the clip page says what the media stage measured."""

import pytest

from tests.e2e.waiting import csp_violations, wait_until
from webapp.catalog.models import VideoModel
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e

VIDEOS = "[...document.querySelectorAll('video')]"
GRID = "[...document.querySelectorAll('.compare-grid video')]"
AUDIBLE = "(vs => vs.map((v, i) => !v.muted ? i : -1).filter(i => i >= 0))"


def sound_prompt(logs) -> Prompt:
    """Three demo clips of one prompt: Aurora and Chime with sound, Lumen silent."""
    aurora = VideoModel.objects.get(slug="demo-aurora")
    assert aurora.backend_params["sound"] > 0  # the catalog's demo model with sound
    VideoModel.objects.create(
        slug="demo-chime",
        display_name="Chime",
        vendor="Screentest demo",
        backend_key="demo",
        is_procedural_demo=True,
        max_duration_s=12,
        backend_params={**aurora.backend_params, "fps": 15, "sound": 0.5},
    )
    prompt = submit_prompt(
        PromptInput(
            text="A red ball bouncing fast", duration_s=2, seed=5, models=["demo-aurora", "demo-chime", "demo-lumen"]
        ),
        source=Prompt.Source.WEB,
    )
    wait_for(
        lambda: GenerationJob.objects.filter(prompt=prompt, state=JobState.SUCCEEDED).count() == 3,
        timeout=90,
        what="three demo clips",
        logs=lambda: (
            f"{list(GenerationJob.objects.filter(prompt=prompt).values_list('model__slug', 'state', 'error_message'))}\n{logs()}"
        ),
    )
    return prompt


def test_one_clip_audible_at_a_time(page, site, celery_procs):
    prompt = sound_prompt(celery_procs.logs)
    violations = csp_violations(page)

    # The prompt page: three players with controls, all muted; two clips say they have sound.
    page.goto(f"{site}/p/{prompt.public_id}")
    wait_until(page, f"{VIDEOS}.length === 3 && {VIDEOS}.every(v => v.readyState >= 1)")
    assert page.evaluate(f"{VIDEOS}.every(v => v.muted && v.controls)")
    assert page.locator("[data-sound=yes]").count() == 2 and page.locator("[data-sound=no]").count() == 1
    # Unmuting one by its controls (the same volumechange the control fires) mutes the others.
    page.evaluate(f"{VIDEOS}[0].muted = false")
    wait_until(page, f"{AUDIBLE}({VIDEOS}).join() === '0'")
    page.evaluate(f"{VIDEOS}[1].muted = false")
    wait_until(page, f"{AUDIBLE}({VIDEOS}).join() === '1'")

    # The compare view: a Sound button per clip with sound; the silent one says so.
    page.goto(f"{site}/p/{prompt.public_id}/compare?models=demo-aurora,demo-chime,demo-lumen")
    wait_until(page, f"{VIDEOS}.every(v => v.readyState >= 2)", timeout=30_000)
    assert page.evaluate(f"{VIDEOS}.every(v => v.muted)")  # grid and wipe
    aurora = page.get_by_role("button", name="Sound of Aurora (procedural demo)")
    chime = page.get_by_role("button", name="Sound of Chime (procedural demo)")
    assert page.get_by_role("button", name="Lumen (procedural demo) has no sound").is_disabled()
    assert aurora.get_attribute("aria-pressed") == "false"

    aurora.click()
    wait_until(page, f"{AUDIBLE}({VIDEOS}).join() === '0'")
    assert aurora.get_attribute("aria-pressed") == "true" and chime.get_attribute("aria-pressed") == "false"
    page.get_by_role("button", name="Play").click()
    # The audible clip's sound really is decoded while the transport plays.
    wait_until(page, f"{GRID}[0].webkitAudioDecodedByteCount > 0 && {GRID}[0].currentTime > 0.3", timeout=15_000)
    chime.click()
    wait_until(page, f"{AUDIBLE}({VIDEOS}).join() === '1'")
    assert aurora.get_attribute("aria-pressed") == "false" and chime.get_attribute("aria-pressed") == "true"
    screenshot(page, "compare-sound")
    chime.click()
    wait_until(page, f"{AUDIBLE}({VIDEOS}).length === 0")
    assert chime.get_attribute("aria-pressed") == "false"

    # The clip page: muted with controls, and the sound the media stage measured.
    clip = GenerationJob.objects.get(prompt=prompt, model__slug="demo-aurora").clip
    page.goto(f"{site}/c/{clip.public_id}")
    assert page.evaluate(f"{VIDEOS}.every(v => v.muted && v.controls)")
    facts = page.locator("[data-sound-facts]").inner_text()
    assert "aac · 2 channels · 48000 Hz" in facts and "LUFS" in facts, facts
    assert violations == []
