"""A visitor in Chromium compares four models' clips of one prompt: one transport plays and
seeks them together, the wipe slider moves its clip-path, the side-by-side MP4 export renders
with live progress and downloads, and every page works on a 390 px wide screen."""

import json
import subprocess

import pytest

from tests.e2e.waiting import csp_violations, wait_until
from webapp.catalog.models import VideoModel
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt

from .conftest import screenshot, wait_for

pytestmark = pytest.mark.e2e

PLAYERS = "[...document.querySelectorAll('[data-sync-player] video')]"


def four_model_prompt(logs) -> Prompt:
    aurora = VideoModel.objects.get(slug="demo-aurora")
    VideoModel.objects.create(
        slug="demo-quartz",
        display_name="Quartz",
        vendor="Screentest demo",
        backend_key="demo",
        is_procedural_demo=True,
        max_duration_s=12,
        backend_params={**aurora.backend_params, "fps": 15, "render_scale": 0.6},
    )
    prompt = submit_prompt(
        PromptInput(text="A paper boat drifting down a rainy street", duration_s=2, seed=11), source=Prompt.Source.WEB
    )
    Prompt.objects.filter(pk=prompt.pk).update(category="scenery")
    wait_for(
        lambda: GenerationJob.objects.filter(prompt=prompt, state=JobState.SUCCEEDED).count() == 4,
        timeout=90,
        what="four demo clips",
        logs=lambda: (
            f"{list(GenerationJob.objects.filter(prompt=prompt).values_list('model__slug', 'state', 'error_message', 'enqueued_at'))}\n{logs()}"
        ),
    )
    return prompt


def test_compare_four_clips_wipe_and_export(page, site, celery_procs, tmp_path):
    prompt = four_model_prompt(celery_procs.logs)
    slugs = ["demo-aurora", "demo-lumen", "demo-pixel", "demo-quartz"]

    # From the prompt page to the comparison.
    violations = csp_violations(page)
    page.goto(f"{site}/p/{prompt.public_id}")
    page.get_by_role("link", name="Compare in sync").click()
    page.wait_for_url(f"{site}/p/{prompt.public_id}/compare**")
    assert page.locator(".compare-grid video").count() == 4
    assert page.locator(".compare-tile figcaption").nth(3).inner_text().count("fps") == 1
    wait_until(page, f"{PLAYERS}.every(v => v.readyState >= 2)", timeout=30_000)

    # Play, then seek: every player (grid and wipe) lands within 0.1 s of the others.
    page.get_by_role("button", name="Play").click()
    wait_until(page, f"{PLAYERS}[0].currentTime > 0.4", timeout=15_000)
    page.get_by_role("button", name="Pause").click()
    page.evaluate("document.querySelector('[data-sync-player]').syncPlayer.seekTo(1.3)")
    wait_until(page, f"{PLAYERS}.every(v => !v.seeking)")
    page.wait_for_timeout(300)
    times = page.evaluate(f"{PLAYERS}.map(v => v.currentTime)")
    assert len(times) == 6 and all(abs(t - 1.3) < 0.1 for t in times), times
    # The seek bar from the keyboard moves them all forward, and they stay there.
    page.get_by_label("Position in every clip").focus()
    page.keyboard.press("Home")
    wait_until(page, f"{PLAYERS}.every(v => !v.seeking && v.currentTime < 0.05)")
    # Frame step by keyboard: "." moves one frame of the fastest clip (24 fps).
    page.get_by_role("button", name="Forward one frame").focus()
    page.keyboard.press("Enter")
    wait_until(page, f"{PLAYERS}.every(v => !v.seeking)")
    assert abs(page.evaluate(f"{PLAYERS}[0].currentTime") - 1 / 24) < 0.02
    page.get_by_label("Speed").select_option("0.5")
    assert page.evaluate(f"{PLAYERS}.every(v => v.playbackRate === 0.5)")

    # The wipe slider moves the top clip's clip-path, by keyboard too.
    over = page.locator('[data-wipe-video="over"]')
    assert "50%" in over.evaluate("v => v.style.clipPath")
    page.get_by_label("Wipe position").fill("25")
    assert over.evaluate("v => v.style.clipPath") == "inset(0px 0px 0px 25%)"
    page.get_by_label("Wipe position").focus()
    page.keyboard.press("ArrowRight")
    assert over.evaluate("v => v.style.clipPath") == "inset(0px 0px 0px 26%)"
    page.locator("[data-wipe-pick=over]").select_option(label="Quartz (procedural demo)")
    wait_until(page, "document.querySelector('[data-wipe-video=over]').readyState >= 1")
    screenshot(page, "compare", full_page=True)

    # The deep link carries the selection and the time, and is applied on load.
    page.evaluate("document.querySelector('[data-sync-player]').syncPlayer.seekTo(0.8)")
    wait_until(page, f"{PLAYERS}.every(v => !v.seeking)")
    href = page.locator("[data-share-link]").get_attribute("href")
    assert href == f"/p/{prompt.public_id}/compare?models={','.join(slugs)}&t=0.80", href
    page.goto(f"{site}/p/{prompt.public_id}/compare?models=demo-pixel,demo-aurora&t=1.1")
    assert page.locator(".compare-grid video").count() == 2
    wait_until(page, f"{PLAYERS}.every(v => v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - 1.1) < 0.1)")

    # Export the four-clip comparison: progress shows, then the download.
    page.goto(f"{site}/p/{prompt.public_id}/compare?models={','.join(slugs)}")
    page.get_by_role("button", name="Export side-by-side MP4").click()
    page.locator("[data-export-state]").wait_for()
    link = page.locator("[data-export-download]")
    link.wait_for(timeout=120_000)
    screenshot(page, "compare-export-ready")
    assert violations == []  # players, wipe and export work under the site's CSP
    with page.expect_download() as download_info:
        link.click()
    path = tmp_path / "side-by-side.mp4"
    download_info.value.save_as(path)
    probe = json.loads(
        subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,width,height,avg_frame_rate",
                "-of",
                "json",
                str(path),
            ],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    )["streams"][0]
    # Four labelled 640x360 tiles in a 2x2 grid plus the 96 px caption band.
    assert (probe["codec_name"], probe["width"], probe["height"], probe["avg_frame_rate"]) == (
        "h264",
        1280,
        816,
        "24/1",
    )


def test_pages_on_a_narrow_screen(browser, site, celery_procs):
    prompt = four_model_prompt(celery_procs.logs)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    try:
        for name, path in [
            ("narrow-gallery", "/"),
            ("narrow-compare", f"/p/{prompt.public_id}/compare"),
            ("narrow-model", "/models/demo-quartz"),
            ("narrow-prompt", f"/p/{prompt.public_id}"),
        ]:
            page.goto(f"{site}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 390px"
            screenshot(page, name, full_page=True)
        # Keyboard: every control on the comparison page is reachable and shows focus.
        page.goto(f"{site}/p/{prompt.public_id}/compare")
        page.get_by_label("Wipe position").focus()
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), outline
        page.goto(f"{site}/?q=paper&category=scenery&model=demo-quartz")
        assert page.locator(".prompt-tile").count() == 1
        screenshot(page, "narrow-gallery-filtered", full_page=True)
    finally:
        context.close()
