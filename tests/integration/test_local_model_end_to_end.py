"""A prompt to an open-weights model, end to end: the tiny Wan pipeline (tests/tiny_diffusers.py)
saved to a directory, a catalog entry with backend "diffusers" pointing at it, the JSON API,
a real Celery worker consuming the `gpu` queue (on the CPU here), the media pipeline, a stored
Clip. The worker process has HF_HUB_OFFLINE=1, so any hub access would fail the job. The same
with the tiny LTX-2 pipeline, whose sound track reaches the stored clip."""

import json
import subprocess

import pytest

from tests.tiny_diffusers import TINY_LTX2_PARAMS, TINY_PARAMS, save_tiny_ltx2, save_tiny_wan
from webapp.catalog.models import VideoModel
from webapp.studio.models import GenerationJob, JobState
from webapp.studio.services import queue

from .conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_prompt_to_a_local_model_becomes_a_clip_through_the_gpu_queue(client, celery_procs, tmp_path):
    model_dir = save_tiny_wan(tmp_path / "tiny-wan")
    VideoModel.objects.create(
        slug="tiny-wan",
        display_name="Tiny Wan",
        vendor="tests",
        backend_key="diffusers",
        max_duration_s=2,
        supported_aspect_ratios=["16:9", "9:16"],
        backend_params={**TINY_PARAMS, "model_path": str(model_dir)},
    )
    worker = celery_procs.worker(
        "gpu0@localhost", queues="gpu,media,default", concurrency=1, env={"HF_HUB_OFFLINE": "1"}
    )
    response = client.post(
        "/api/v1/prompts",
        data=json.dumps({"prompt": "a red cat runs on the beach", "models": ["tiny-wan"], "duration_s": 1, "seed": 3}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    job = GenerationJob.objects.get(prompt__public_id=response.json()["id"])
    assert queue.generate_route(job.pk) is queue.GENERATE_LOCAL
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=120, what="the local job", logs=worker.log
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message, worker.log())
    assert job.vendor_job_id.startswith("local-") and job.vendor_metadata["frames"] == 9
    clip = job.clip
    assert (clip.width, clip.height, round(clip.fps)) == (64, 32, 8)
    assert abs(clip.duration_s - 9 / 8) < 0.05  # 9 frames at 8 fps, as the media stage probed it
    assert clip.web.storage.exists(clip.web.name) and clip.poster.storage.exists(clip.poster.name)


def test_a_local_model_with_sound_keeps_its_sound_track_in_the_stored_clip(client, celery_procs, tmp_path):
    model_dir = save_tiny_ltx2(tmp_path / "tiny-ltx2")
    VideoModel.objects.create(
        slug="tiny-ltx2",
        display_name="Tiny LTX-2",
        vendor="tests",
        backend_key="diffusers",
        max_duration_s=2,
        supported_aspect_ratios=["16:9", "9:16"],
        backend_params={**TINY_LTX2_PARAMS, "model_path": str(model_dir)},
    )
    worker = celery_procs.worker(
        "gpu0@localhost", queues="gpu,media,default", concurrency=1, env={"HF_HUB_OFFLINE": "1"}
    )
    response = client.post(
        "/api/v1/prompts",
        data=json.dumps({"prompt": "a dog runs on the beach", "models": ["tiny-ltx2"], "duration_s": 1, "seed": 5}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    job = GenerationJob.objects.get(prompt__public_id=response.json()["id"])
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=120, what="the local job", logs=worker.log
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message, worker.log())
    assert job.vendor_metadata["audio"] is True and job.vendor_metadata["frames"] == 9
    clip = job.clip
    assert abs(clip.duration_s - 9 / 8) < 0.05
    # The media stage found the original's sound, as long as its picture, and kept it in the rendition.
    assert clip.has_audio and clip.audio["codec"] == "aac" and clip.audio["sample_rate"] == 16000
    assert abs(clip.audio["duration_s"] - 9 / 8) <= 1 / 8
    assert not {note["code"] for note in clip.audio["notes"]} & {"audio_shorter_than_video", "audio_longer_than_video"}
    with clip.web.open("rb") as stored:
        web = tmp_path / "web.mp4"
        web.write_bytes(stored.read())
    streams = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", str(web)],
        capture_output=True,
        check=True,
        text=True,
        timeout=30,
    ).stdout.split()
    assert sorted(streams) == ["audio", "video"]
