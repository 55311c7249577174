"""The one path with every part real: web form / JSON API -> PostgreSQL -> Redis -> Celery
worker processes -> demo backends -> ffmpeg -> storage -> the Range media view."""

import json
import subprocess
import time

import pytest
from django.utils import timezone

from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services import jobs
from workers.celery import app

from .conftest import wait_for

pytestmark = pytest.mark.integration


def all_final(prompt):
    return all(job.is_terminal for job in GenerationJob.objects.filter(prompt=prompt))


def assert_playable_and_seekable(client, clip, media_root):
    path = media_root / clip.web.name
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    )
    video = probe["streams"][0]
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert not probe["format"].get("tags", {}).get("encoder")
    head = client.get(f"/media/{clip.web.name}", HTTP_RANGE="bytes=0-1023")
    assert head.status_code == 206 and len(b"".join(head.streaming_content)) == 1024
    tail = client.get(f"/media/{clip.web.name}", HTTP_RANGE="bytes=-100")
    assert tail.status_code == 206 and tail["Content-Range"].endswith(f"/{path.stat().st_size}")


def test_web_form_prompt_yields_one_playable_clip_per_demo_model(client, celery_procs, settings):
    load_catalog()
    worker = celery_procs.worker("itest-a@localhost")
    response = client.post(
        "/new",
        {
            "text": "A red sun over fast ocean waves",
            "duration_s": "2",
            "aspect_ratio": "16:9",
            "models": ["demo-aurora", "demo-lumen", "demo-pixel"],
        },
    )
    assert response.status_code == 302
    prompt = Prompt.objects.get()
    wait_for(lambda: all_final(prompt), timeout=90, what="three demo clips", logs=worker.log)
    jobs_ = list(prompt.jobs.select_related("clip", "model"))
    assert {j.state for j in jobs_} == {JobState.SUCCEEDED}, [(j.model.slug, j.error_message) for j in jobs_]
    assert all(j.attempts == 1 and j.vendor_job_id.startswith("demo-") for j in jobs_)
    sizes = {j.model.slug: (j.clip.width, j.clip.height, round(j.clip.fps)) for j in jobs_}
    assert sizes["demo-aurora"] == (512, 288, 24)
    assert sizes["demo-aurora"] != sizes["demo-pixel"]  # the demo models really differ
    for job in jobs_:
        assert_playable_and_seekable(client, job.clip, settings.MEDIA_ROOT)
    page = client.get(f"/p/{prompt.public_id}").content.decode()
    assert page.count("<video") == 3 and "hx-trigger" not in page


def test_json_api_prompt_yields_clips(client, celery_procs):
    load_catalog()
    celery_procs.worker("itest-b@localhost")
    created = client.post(
        "/api/v1/prompts",
        data=json.dumps(
            {"prompt": "green birds flying over a forest", "models": ["demo-aurora"], "duration_s": 2, "seed": 4}
        ),
        content_type="application/json",
    )
    assert created.status_code == 201
    url = f"/api/v1/prompts/{created.json()['id']}"
    body = wait_for(
        lambda: (lambda b: b if b["complete"] else None)(client.get(url).json()),
        timeout=60,
        what="the API to report completion",
        logs=celery_procs.logs,
    )
    clip = body["jobs"][0]["clip"]
    assert body["jobs"][0]["state"] == "succeeded" and clip["codec"] == "h264"
    assert client.get(clip["url"], HTTP_RANGE="bytes=0-99").status_code == 206
    assert client.get(clip["poster_url"]).status_code == 200
    # Aurora is the demo model with sound: the media stage measured it and the API says so.
    assert clip["has_audio"] is True
    sound = clip["audio"]
    assert (sound["codec"], sound["channels"], sound["sample_rate"]) == ("aac", 2, 48000)
    assert abs(sound["duration_s"] - sound["video_duration_s"]) < 0.1 and sound["notes"] == []
    assert -40 < sound["loudness_lufs"] < -10 and sound["silence_share"] < 0.05


def slow_demo_model(latency_s: float) -> VideoModel:
    return VideoModel.objects.create(
        slug="demo-slow",
        display_name="Slow",
        vendor="Screentest demo",
        backend_key="demo",
        is_procedural_demo=True,
        backend_params={"fps": 12, "latency_s": latency_s},
    )


def submit_one(client, slug: str) -> GenerationJob:
    response = client.post(
        "/api/v1/prompts",
        data=json.dumps({"prompt": "a slow blue planet", "models": [slug], "duration_s": 2, "seed": 1}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return GenerationJob.objects.get(prompt__public_id=response.json()["id"])


def test_two_workers_racing_on_duplicated_messages_make_one_clip(client, celery_procs, settings):
    slow_demo_model(latency_s=1.0)
    celery_procs.worker("race-1@localhost")
    celery_procs.worker("race-2@localhost")
    job = submit_one(client, "demo-slow")
    for _ in range(5):  # duplicates of the same message, as a redelivery would produce
        app.send_task("studio.generate", args=[job.pk], queue="generate")
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=60, what="the job", logs=celery_procs.logs
    )
    time.sleep(2)  # let every duplicate be consumed before counting
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert Clip.objects.filter(job=job).count() == 1
    files = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert len(files) == 3, f"want one original, one rendition, one poster: {files}"


def wait_until_running(job, logs):
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).state == JobState.RUNNING,
        timeout=30,
        what="the worker to claim the job",
        logs=logs,
    )


def test_reaper_recovers_a_job_whose_worker_died(client, celery_procs):
    slow_demo_model(latency_s=5.0)
    doomed = celery_procs.worker(
        "doomed@localhost", env={"JOB_LEASE_S": "3", "JOB_TIME_LIMIT_S": "60", "JOB_SOFT_TIME_LIMIT_S": "50"}
    )
    job = submit_one(client, "demo-slow")
    wait_until_running(job, doomed.log)
    doomed.kill()
    time.sleep(3.5)  # the dead worker's lease runs out
    assert jobs.reap_stale_jobs()["resent"] == 1
    celery_procs.worker("rescuer@localhost")
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=60, what="recovery", logs=celery_procs.logs
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert Clip.objects.filter(job=job).count() == 1


def test_a_killed_worker_restarted_under_its_name_resumes_at_once(client, celery_procs):
    slow_demo_model(latency_s=5.0)
    first = celery_procs.worker("steady@localhost")  # default lease: 16 minutes
    job = submit_one(client, "demo-slow")
    wait_until_running(job, first.log)
    first.kill()
    started = time.monotonic()
    celery_procs.worker("steady@localhost")
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal,
        timeout=60,
        what="resume after restart",
        logs=celery_procs.logs,
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and Clip.objects.filter(job=job).count() == 1
    assert time.monotonic() - started < 60  # not the 16-minute lease


def test_beat_resends_a_job_whose_message_was_lost(client, celery_procs):
    load_catalog()
    prompt = Prompt.objects.create(text="lost message", seed=1, duration_s=2, aspect_ratio="16:9")
    long_ago = timezone.now() - timezone.timedelta(minutes=10)
    job = GenerationJob.objects.create(prompt=prompt, model=VideoModel.objects.get(slug="demo-aurora"))
    GenerationJob.objects.filter(pk=job.pk).update(queued_at=long_ago)  # no message was ever sent
    celery_procs.worker("beat-worker@localhost")
    celery_procs.beat(env={"REAPER_INTERVAL_S": "1"})
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal,
        timeout=60,
        what="beat's reaper",
        logs=celery_procs.logs,
    )
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.SUCCEEDED
