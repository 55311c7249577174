"""The articles' claims as data, beside what Screentest measured, with contradictions marked."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from webapp.catalog.models import ClaimedSystem, FeatureClaim, VideoModel
from webapp.catalog.services import load_catalog, load_claims
from webapp.gallery.services.feature_table import claimed_seconds, feature_table, model_facts
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services.measured import measure
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    load_catalog()
    load_claims()


_PROMPT_N = [0]  # a running number for prompt texts, across calls


def add_job(model, state, *, seconds=None, cost=None, latency_s=30, audio=None, measurements=None):
    _PROMPT_N[0] += 1
    prompt_n = _PROMPT_N
    prompt = Prompt.objects.create(text=f"p{prompt_n[0]}", seed=1, duration_s=5, aspect_ratio="16:9")
    job = GenerationJob.objects.create(
        prompt=prompt, model=model, state=state, attempts=1, cost_usd=None if cost is None else Decimal(str(cost))
    )
    GenerationJob.objects.filter(pk=job.pk).update(
        started_at=job.queued_at, finished_at=job.queued_at + timedelta(seconds=latency_s)
    )
    if seconds is not None:
        Clip.objects.create(
            job=job,
            original="o.mp4",
            web="w.mp4",
            poster="p.jpg",
            sha256_original="0" * 64,
            sha256_web="0" * 64,
            duration_s=seconds,
            width=1280,
            height=720,
            fps=24,
            codec="h264",
            bytes=1,
            original_bytes=1,
            has_audio=bool(audio and audio["has_audio"]),
            audio=audio or {},
            measurements=measurements or {},
            measurements_version=MEASUREMENTS_VERSION if measurements is not None else 0,
        )
    return job


def sound(lufs=None, *notes):
    """Clip.audio as the media stage stores it (workers/media/audio.py AudioInfo.as_dict)."""
    if lufs is None and not notes:
        return {"has_audio": False, "video_duration_s": 5.0, "notes": []}
    return {
        "has_audio": True,
        "video_duration_s": 5.0,
        "codec": "aac",
        "channels": 2,
        "sample_rate": 48000,
        "duration_s": 5.0,
        "loudness_lufs": lufs,
        "true_peak_dbtp": -3.0,
        "silence_share": 1.0 if "silent" in notes else 0.0,
        "notes": [{"code": code, "message": code} for code in notes],
    }


def test_every_claim_keeps_its_sources_and_conflicts_are_all_kept(catalog):
    assert FeatureClaim.objects.count() == 42
    luma = ClaimedSystem.objects.get(slug="luma-dream-machine")
    durations = {c.value: c.sources for c in luma.claims.filter(feature="max_duration")}
    assert durations == {"Up to 5 seconds (extensible)": ["A003"], "5-10 second clips": ["A002"]}
    assert ClaimedSystem.objects.get(slug="traditional-production").is_baseline


def test_the_comparison_page_shows_conflicts_side_by_side_and_the_baseline(client, catalog):
    page = client.get("/models/compare").content.decode()
    assert "Up to 5 seconds (extensible)" in page and "5-10 second clips" in page
    assert "Traditional production (baseline)" in page and "Weeks to months" in page and "Seconds to minutes" in page
    assert 'href="#source-A003"' in page and 'id="source-A003"' in page
    assert "conflicting" in page


def test_measurements_sit_beside_claims_and_a_contradicted_claim_is_marked(client, catalog):
    kling = VideoModel.objects.get(slug="kling-v2-1-master")
    add_job(kling, JobState.SUCCEEDED, seconds=5.1, cost=0.42, latency_s=40)
    add_job(kling, JobState.SUCCEEDED, seconds=10.0, cost=0.84, latency_s=100)
    add_job(kling, JobState.REJECTED_BY_VENDOR)
    add_job(kling, JobState.FAILED)
    facts = model_facts(kling)
    m = facts["measured"]
    assert (m.jobs_finished, m.clips, m.longest_clip_s, m.resolution, m.fps) == (4, 2, 10.0, "1280x720", 24)
    assert (m.failure_rate, m.rejection_rate) == (0.25, 0.25)
    assert m.cost_per_video_second_usd == pytest.approx(1.26 / 15.1)
    assert m.latency_p50_s == pytest.approx(70) and m.latency_p95_s == pytest.approx(97)
    two_minutes = next(cv for cv in facts["claims"] if cv.claim.value == "Up to 2 minutes")
    assert two_minutes.contradicted_by == [
        "Kling 2.1 Master: its API accepts at most 10 s",
        "Kling 2.1 Master: longest clip obtained 10.0 s",
    ]
    page = client.get("/models/kling-v2-1-master").content.decode()
    assert "Up to 2 minutes" in page and "longest clip obtained 10.0 s" in page and "25%" in page
    table = feature_table()
    kling_column = next(c for c in table["columns"] if c.system.slug == "kling-ai")
    # every loaded Kling model sits in the column (fake-kling is not loaded)
    assert [x.model.slug for x in kling_column.measured] == ["kling-v2-1-master", "kling-v2-6", "kling-v3"]
    assert "contradicted" in client.get("/models/compare").content.decode()


def test_the_current_kling_and_luma_models_are_measured_in_their_systems_columns(client, catalog):
    """Kling 2.6 / 3.0 and Luma Ray 3.2 are the vendors' current models: their clips belong
    beside the articles' Kling AI and Luma Dream Machine claims, not among the unclaimed."""
    add_job(VideoModel.objects.get(slug="kling-v2-6"), JobState.SUCCEEDED, seconds=10.0, audio=sound(-20.0))
    add_job(VideoModel.objects.get(slug="kling-v3"), JobState.SUCCEEDED, seconds=15.0, audio=sound(-18.0))
    add_job(VideoModel.objects.get(slug="luma-ray-3-2"), JobState.SUCCEEDED, seconds=10.0)
    table = feature_table()
    columns = {c.system.slug: c for c in table["columns"]}
    kling = {m.model.slug: m for m in columns["kling-ai"].measured}
    assert (kling["kling-v2-6"].longest_clip_s, kling["kling-v3"].longest_clip_s) == (10.0, 15.0)
    assert "luma-ray-3-2" in {m.model.slug for m in columns["luma-dream-machine"].measured}
    assert not [m.model.slug for m in table["unclaimed"] if m.model.slug.startswith(("kling", "luma"))]
    two_minutes = next(cv for cv in columns["kling-ai"].claims["max_duration"] if cv.claim.value == "Up to 2 minutes")
    assert "Kling 3.0 (with sound): longest clip obtained 15.0 s" in two_minutes.contradicted_by
    assert "Up to 2 minutes" in client.get("/models/kling-v3").content.decode()


def test_an_unknown_model_page_is_a_404(client, catalog):
    assert client.get("/models/no-such-model").status_code == 404


def test_claimed_durations_are_read_in_seconds():
    assert claimed_seconds("Up to 60 seconds") == 60
    assert claimed_seconds("Up to 2 minutes") == 120
    assert claimed_seconds("Typically 4-16 seconds") == 16
    assert claimed_seconds("Publicly available") is None


def test_load_catalog_command_loads_the_claims_too():
    call_command("load_catalog", stdout=StringIO())
    assert FeatureClaim.objects.count() == 42


def test_the_sound_row_sets_claims_beside_what_adapters_declare_and_clips_measure(client, catalog):
    sora = VideoModel.objects.get(slug="openai-sora-2")
    add_job(sora, JobState.SUCCEEDED, seconds=4, audio=sound(-18.0))
    add_job(sora, JobState.SUCCEEDED, seconds=4, audio=sound(-22.0))
    add_job(sora, JobState.SUCCEEDED, seconds=4, audio=sound(-70.0, "silent"))  # not in the loudness median
    add_job(sora, JobState.SUCCEEDED, seconds=4, audio=sound())  # no track
    add_job(sora, JobState.SUCCEEDED, seconds=4)  # made before sound was measured: not counted
    m = model_facts(sora)["measured"]
    assert (m.sound_measured, m.clips_with_audio, m.audio_share) == (4, 3, 0.75)
    assert (m.median_loudness_lufs, m.audio_problems) == (-20.0, 1)
    assert m.declared_sound == "always with sound"

    page = client.get("/models/compare").content.decode()
    assert 'id="feature-sound"' in page
    assert "The articles make no claim." in page  # the articles say nothing of sound
    row = page.split('id="feature-sound"')[1].split("</tr>")[0]
    assert "Sora 2: always with sound; measured: 3 of 4 clips with sound, median" in row
    assert "-20.0 LUFS</span>, 1 with a sound problem" in row
    assert "Luma Ray 2: silent; measured: no clip measured yet" in row
    assert "Kling 2.1 Master: silent" in row
    measured = page.split('id="measured-openai-sora-2"')[1].split("</tr>")[0]
    assert "3 of 4 clips with sound" in measured

    model_page = client.get("/models/openai-sora-2").content.decode()
    assert "always with sound" in model_page and "3 of 4 clips with sound" in model_page


def test_a_switch_in_the_catalog_is_what_the_model_declares(catalog):
    kling26 = VideoModel.objects.get(slug="kling-v2-6")
    assert model_facts(kling26)["measured"].declared_sound == "sound (switch on)"
    kling26.backend_params = {**kling26.backend_params, "generate_audio": False}
    assert model_facts(kling26)["measured"].declared_sound == "silent (switch off)"
    aurora = VideoModel.objects.get(slug="demo-aurora")
    assert model_facts(aurora)["measured"].declared_sound == "always with sound"


def test_a_fresh_install_shows_every_claim_with_sources_and_what_the_demo_models_measured(client, monkeypatch):
    """seed_demo (what up.sh runs) loads the articles' claims, and the demo models, the only
    ones with clips on a fresh install, are measured on /models/compare."""
    from tests.conftest import record_sent

    record_sent(monkeypatch, lambda *a: None)
    call_command("seed_demo", stdout=StringIO())
    assert FeatureClaim.objects.count() == 42
    aurora = VideoModel.objects.get(slug="demo-aurora")
    add_job(aurora, JobState.SUCCEEDED, seconds=4.0, latency_s=12)
    page = client.get("/models/compare").content.decode()
    for system in ClaimedSystem.objects.all():
        assert system.name in page
    assert 'id="source-A000"' in page and "Up to 2 minutes" in page
    assert 'id="measured-demo-aurora"' in page
    row = page.split('id="measured-demo-aurora"', 1)[1].split("</tr>", 1)[0]
    assert "4.0 s" in row and "1280x720" in row


def test_latency_runs_from_the_jobs_start_with_queue_and_review_waits_apart(client, catalog, monkeypatch):
    """A prompt held 30 s for review, then 1 s in the queue, then 7 s of generation: the model
    took 7 s (issue 14 item 3), and the waits are shown apart."""
    from tests.conftest import record_sent
    from webapp.studio.services import jobs
    from webapp.studio.services.submission import PromptInput, submit_prompt

    record_sent(monkeypatch, lambda *a: None)
    aurora = VideoModel.objects.get(slug="demo-aurora")
    prompt = submit_prompt(PromptInput(text="Elon Musk riding a horse on Mars", models=[aurora.slug], duration_s=2))
    assert prompt.moderation == "held"
    jobs.release_held(prompt)
    job = GenerationJob.objects.get(prompt=prompt)
    assert job.released_at is not None
    t0 = job.queued_at
    GenerationJob.objects.filter(pk=job.pk).update(
        state=JobState.SUCCEEDED,
        released_at=t0 + timedelta(seconds=30),
        started_at=t0 + timedelta(seconds=31),
        finished_at=t0 + timedelta(seconds=38),
    )
    Prompt.objects.filter(pk=prompt.pk).update(moderation="allowed")
    add_job(aurora, JobState.SUCCEEDED, seconds=2.0, latency_s=9)
    Clip.objects.create(
        job=job, original="o.mp4", web="w.mp4", poster="p.jpg", sha256_original="0" * 64, sha256_web="0" * 64,
        duration_s=2.0, width=640, height=360, fps=24, codec="h264", bytes=1, original_bytes=1,
    )  # fmt: skip
    job.refresh_from_db()
    assert (job.latency_s, job.review_wait_s, job.queue_wait_s) == (7, 30, 1)
    m = model_facts(aurora)["measured"]
    assert m.latency_p50_s == pytest.approx(8) and m.latency_p95_s == pytest.approx(8.9)
    assert m.review_wait_p50_s == pytest.approx(30)
    card = client.get(f"/p/{prompt.public_id}").content.decode()
    assert "made in 7.0 s" in card and "30 s awaiting review" in card and "1.0 s in the queue" in card
    (api_job,) = client.get(f"/api/v1/prompts/{prompt.public_id}").json()["jobs"]
    assert (api_job["latency_s"], api_job["queue_wait_s"], api_job["review_wait_s"]) == (7, 1, 30)


def picture(motion, smoothness, **others):
    """Clip.measurements as workers/media/measure.py stores them (every key; None = not computable)."""
    return {**dict.fromkeys(METRIC_KEYS, 0.5), "motion_mean": motion, "smoothness_error": smoothness, **others}


def test_automatic_measurements_show_median_and_spread_beside_the_claims_about_motion(client, catalog):
    luma = VideoModel.objects.get(slug="luma-ray-2")
    for motion in (1.0, 2.0, 3.0, 4.0, 5.0):
        add_job(luma, JobState.SUCCEEDED, seconds=5, measurements=picture(motion, motion / 100))
    add_job(luma, JobState.SUCCEEDED, seconds=5, measurements=dict.fromkeys(METRIC_KEYS))  # a failed measurement
    add_job(luma, JobState.SUCCEEDED, seconds=5)  # not measured yet
    m = measure(luma)
    assert (m.clips, m.picture_measured) == (7, 6)
    spread = m.picture["motion_mean"]
    assert (spread.clips, spread.median, spread.low, spread.high) == (5, 3.0, 2.0, 4.0)  # nulls left out
    assert m.summary()["picture"]["motion_mean"] == [3.0, 2.0, 4.0]
    facts = model_facts(luma)
    fluid = next(cv for cv in facts["claims"] if cv.claim.value == "Speed and fluidity")
    assert fluid.beside == [
        "Luma Ray 2: motion 3.00 px/frame (2.00-4.00), smoothness error 0.0300 (0.0200-0.0400) over 5 clips"
    ]
    assert fluid.contradicted_by == []  # shown beside, never a verdict on words without a scale
    page = client.get("/models/luma-ray-2").content.decode()
    assert 'data-picture="luma-ray-2"' in page and 'data-metric="motion_mean"' in page
    assert "over 6 measured clips" in page and "2.000 – 4.000" in page
    compare = client.get("/models/compare").content.decode()
    assert "data-measured-beside" in compare and "motion 3.00 px/frame" in compare
    assert "Motion (optical flow): 3.000 (2.000–4.000)" in compare


def test_a_model_without_measured_clips_says_so(client, catalog):
    luma = VideoModel.objects.get(slug="luma-ray-2")
    add_job(luma, JobState.SUCCEEDED, seconds=5)
    assert measure(luma).picture == {}
    assert "data-picture-none" in client.get("/models/luma-ray-2").content.decode()
