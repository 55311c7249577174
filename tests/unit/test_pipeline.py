"""Both worker stages run in-process against real ffmpeg, with test adapters that follow the
backend contract. The broker is replaced by a list: what would have been sent is asserted."""

import json
import re
import subprocess

import pytest
from django.core.files.storage import default_storage

from tests.conftest import record_sent, stored_files
from tests.fakes import backends as fakes
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState
from webapp.studio.services import pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import registry

pytestmark = pytest.mark.django_db

FAKES = [
    "TestPattern",
    "Garbage",
    "Truncated",
    "PolicyRejecting",
    "Broken",
    "RateLimited",
    "Overloaded",
    "WithSound",
    "ShortSound",
    "BrokenSound",
]


@pytest.fixture(autouse=True)
def fake_backends(monkeypatch):
    for name in FAKES:
        monkeypatch.setitem(registry.BACKENDS, f"fake-{name}", f"tests.fakes.backends.{name}")
    registry.backend_class.cache_clear()
    fakes.CALLS.clear()
    yield
    registry.backend_class.cache_clear()


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0], countdown)))
    return messages


def make_job(backend: str, django_capture_on_commit_callbacks, *, duration=2.0) -> GenerationJob:
    VideoModel.objects.get_or_create(
        slug=f"fake-{backend.lower()}",
        defaults=dict(
            display_name=f"Fake {backend}",
            vendor="Fake vendor",
            backend_key=f"fake-{backend}",
            backend_params={"base_width": 320, "base_height": 180},
        ),
    )
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(
            PromptInput(text="a test pattern", models=[f"fake-{backend.lower()}"], duration_s=duration, seed=3)
        )
    return prompt.jobs.get()


def run_both_stages(job, callbacks_fixture):
    with callbacks_fixture(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    job.refresh_from_db()
    if job.state == JobState.PROCESSING:
        with callbacks_fixture(execute=True):
            pipeline.media_step(job.pk, owner="m pid 1")
        job.refresh_from_db()
    return job


def ffprobe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return json.loads(out)


def test_good_output_becomes_one_clip_with_a_blind_rendition(media_root, sent, django_capture_on_commit_callbacks):
    job = make_job("TestPattern", django_capture_on_commit_callbacks)
    job = run_both_stages(job, django_capture_on_commit_callbacks)
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert job.vendor_job_id == f"TestPattern-screentest-job-{job.pk}"
    assert float(job.cost_usd) == 0.25 and job.finished_at and job.latency_s > 0
    clip = Clip.objects.get(job=job)
    # Once the clip is stored, its measurements go to the media queue as a task of their own.
    assert [m[:2] for m in sent] == [("studio.process_clip", job.pk), ("studio.measure_clip", clip.pk)]
    assert (clip.width, clip.height, clip.codec) == (320, 180, "h264")
    assert abs(clip.duration_s - 2.0) < 0.2 and clip.fps == 24
    web = media_root / clip.web.name
    info = ffprobe(web)
    assert info["streams"][0]["pix_fmt"] == "yuv420p"
    assert not info["format"].get("tags", {}).get("title")
    blob = web.read_bytes()
    assert b"VENDORX" not in blob and b"secret-model" not in blob and b"x264" not in blob
    assert b"VENDORX" in (media_root / clip.original.name).read_bytes()  # the original is kept as received
    for name in (clip.web.name, clip.poster.name, clip.original.name):  # random names, nothing else
        assert re.fullmatch(r"(clips|posters|originals)/[A-Za-z0-9_-]{24}\.(mp4|jpg)", name), name
    assert (media_root / clip.poster.name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert sorted(stored_files(media_root)) == sorted([clip.web.name, clip.poster.name, clip.original.name])


def audio_streams(path):
    return [s for s in ffprobe(path)["streams"] if s["codec_type"] == "audio"]


def test_the_sound_is_measured_kept_and_played(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(make_job("WithSound", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    assert job.state == JobState.SUCCEEDED, job.error_message
    clip = Clip.objects.get(job=job)
    assert clip.has_audio is True
    facts = clip.audio
    assert (facts["codec"], facts["channels"], facts["sample_rate"]) == ("aac", 1, 48000)
    assert abs(facts["duration_s"] - 2.0) < 0.1 and facts["notes"] == []
    assert -25 < facts["loudness_lufs"] < -18 and facts["silence_share"] == 0
    (audio,) = audio_streams(media_root / clip.web.name)  # the gallery's file plays it
    assert clip.audible is True
    assert audio["codec_name"] == "aac"


def test_a_clip_without_sound_says_so(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(
        make_job("TestPattern", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    clip = Clip.objects.get(job=job)
    assert clip.has_audio is False and clip.audio["has_audio"] is False
    assert audio_streams(media_root / clip.web.name) == []


def test_sound_that_stops_early_is_noted(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(
        make_job("ShortSound", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert job.state == JobState.SUCCEEDED, job.error_message
    clip = Clip.objects.get(job=job)
    assert [n["code"] for n in clip.audio["notes"]] == ["audio_shorter_than_video"]
    assert "0.51 s and stops 1.49 s" in clip.audio["notes"][0]["message"]
    assert len(audio_streams(media_root / clip.web.name)) == 1  # still played, as it is


def test_undecodable_sound_is_a_note_and_the_clip_is_made_without_it(
    media_root, sent, django_capture_on_commit_callbacks
):
    job = run_both_stages(
        make_job("BrokenSound", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert job.state == JobState.SUCCEEDED, job.error_message
    clip = Clip.objects.get(job=job)
    assert clip.has_audio is True
    assert [n["code"] for n in clip.audio["notes"]] == ["undecodable"]
    assert audio_streams(media_root / clip.web.name) == []  # the picture plays, silently
    assert clip.audible is False  # so the pages offer no sound for it


def test_duplicate_messages_make_one_vendor_job_and_one_clip(media_root, sent, django_capture_on_commit_callbacks):
    job = make_job("TestPattern", django_capture_on_commit_callbacks)
    job = run_both_stages(job, django_capture_on_commit_callbacks)
    run_both_stages(job, django_capture_on_commit_callbacks)  # the redelivered copies
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.media_step(job.pk, owner="m pid 2")
    assert fakes.CALLS == ["TestPattern"]
    assert Clip.objects.count() == 1
    assert len(stored_files(media_root)) == 3


@pytest.mark.parametrize("backend", ["Garbage", "Truncated"])
def test_broken_output_fails_clearly_and_leaves_no_file(backend, media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(make_job(backend, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    assert job.state == JobState.FAILED
    assert job.error_code == "invalid_output"
    assert "rejected" in job.error_message and len(job.error_message) > 30
    assert Clip.objects.count() == 0
    assert stored_files(media_root) == []


def test_policy_rejection_is_final_and_not_retried(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(
        make_job("PolicyRejecting", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert (job.state, job.error_code) == (JobState.REJECTED_BY_VENDOR, "rejected_by_vendor")
    assert sent == [] and stored_files(media_root) == []


def test_permanent_error_fails_without_retry(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(make_job("Broken", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    assert (job.state, job.error_code) == (JobState.FAILED, "auth_failed")
    assert sent == []


def test_retryable_error_waits_at_least_retry_after(media_root, sent, django_capture_on_commit_callbacks):
    job = run_both_stages(
        make_job("Overloaded", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert (job.state, job.error_code, job.attempts) == (JobState.QUEUED, "vendor_unavailable", 1)
    assert sent == [("studio.generate", job.pk, 10.0)]  # backoff 10 s beats Retry-After 7 s
    assert job.vendor_job_id  # kept, so the retry resumes the vendor job


def test_a_vendor_rate_limit_waits_retry_after_without_using_an_attempt(
    media_root, sent, django_capture_on_commit_callbacks
):
    job = run_both_stages(
        make_job("RateLimited", django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert (job.state, job.error_code, job.attempts) == (JobState.QUEUED, "vendor_rate_limited", 0)
    assert sent == [("studio.generate", job.pk, 7.0)]  # exactly what the vendor asked for
    assert job.vendor_job_id  # kept, so the retry resumes the vendor job


def test_missing_ffmpeg_on_the_media_worker_fails_with_a_clear_message(
    media_root, sent, settings, django_capture_on_commit_callbacks
):
    job = make_job("TestPattern", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    settings.FFPROBE_BINARY = "/nonexistent/ffprobe"
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.FAILED, "ffmpeg_missing")
    assert "ffmpeg" in job.error_message.lower()


def test_storage_failure_while_saving_leaves_no_orphan(
    media_root, sent, monkeypatch, django_capture_on_commit_callbacks
):
    job = make_job("TestPattern", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    original = GenerationJob.objects.get(pk=job.pk).original.name
    real_save, calls = default_storage.save, []

    def flaky_save(name, content, **kw):
        calls.append(name)
        if name.startswith("posters/"):
            raise OSError("disk full")
        return real_save(name, content, **kw)

    monkeypatch.setattr(default_storage, "save", flaky_save)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert job.state == JobState.PROCESSING and job.error_code  # will be retried
    assert stored_files(media_root) == [original]  # the rendition saved before the failure is gone
    assert Clip.objects.count() == 0
