"""Issue 16 with real processes: a lost media message (D1), a killed worker's export and scratch
(D4, D6), a live worker keeping a short lease by heartbeat, and a dead worker's job recovered
within two minutes on the default settings."""

import time

import pytest
from django.conf import settings

from webapp.gallery.models import ExportState, SideBySideExport
from webapp.gallery.services import exports
from webapp.studio.models import Clip, GenerationJob, JobState
from workers.celery import app

from .conftest import wait_for
from .test_pipeline_end_to_end import slow_demo_model, submit_one, wait_until_running

pytestmark = pytest.mark.integration


def _state(job) -> str:
    return GenerationJob.objects.get(pk=job.pk).state


def test_d1_a_job_whose_media_message_was_lost_is_recovered_by_beat(client, celery_procs):
    slow_demo_model(latency_s=0.5)
    fast = {"JOB_QUEUED_STALE_S": "2", "REAPER_INTERVAL_S": "1"}  # the reaper runs on the default queue
    generate_only = celery_procs.worker("gen-only@localhost", queues="generate,default", env=fast)
    job = submit_one(client, "demo-slow")
    wait_for(lambda: _state(job) == JobState.PROCESSING, timeout=60, what="the hand-over", logs=generate_only.log)
    with app.connection_for_write() as conn:  # the media message is lost (a Redis restart, an eviction)
        conn.default_channel.queue_purge("media")
    celery_procs.worker("media@localhost", queues="media", env=fast)
    celery_procs.beat(env=fast)
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=60, what="recovery", logs=celery_procs.logs
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.resend_count >= 1
    assert Clip.objects.filter(job=job).count() == 1


def test_a_live_worker_keeps_a_short_lease_by_heartbeat(client, celery_procs):
    slow_demo_model(latency_s=8.0)  # longer than the lease
    short = {"JOB_LEASE_S": "3", "JOB_HEARTBEAT_S": "0.5", "REAPER_INTERVAL_S": "1"}
    celery_procs.worker("steady-1@localhost", env=short)
    celery_procs.worker("steady-2@localhost", env=short)  # would take the job over if the lease ran out
    celery_procs.beat(env=short)
    job = submit_one(client, "demo-slow")
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=90, what="the job", logs=celery_procs.logs
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.attempts, job.media_attempts, job.resend_count) == (1, 1, 0), "the live worker lost its lease"


def test_a_dead_workers_job_runs_again_within_two_minutes_on_default_settings(client, celery_procs):
    """No setting shortened: the default lease, heartbeat and reaper interval. The dead worker
    is not restarted under its name (that path frees its leases at once)."""
    slow_demo_model(latency_s=5.0)
    doomed = celery_procs.worker("doomed-default@localhost")
    job = submit_one(client, "demo-slow")
    wait_until_running(job, doomed.log)
    doomed.kill()
    killed_at = time.monotonic()
    celery_procs.worker("rescuer-default@localhost")
    celery_procs.beat()
    limit_s = 120
    wait_for(
        lambda: GenerationJob.objects.filter(pk=job.pk, attempts__gte=2).exists() or None,
        timeout=limit_s + 30,
        what="another worker to take the dead worker's job",
        logs=celery_procs.logs,
    )
    recovered_s = time.monotonic() - killed_at
    print(
        f"\ndead worker's job claimed again {recovered_s:.1f} s after the kill "
        f"(JOB_LEASE_S={settings.JOB_LEASE_S}, REAPER_INTERVAL_S={settings.REAPER_INTERVAL_S})"
    )
    assert recovered_s <= limit_s, f"recovery took {recovered_s:.0f} s"
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, timeout=60, what="the job", logs=celery_procs.logs
    )
    assert _state(job) == JobState.SUCCEEDED and Clip.objects.filter(job=job).count() == 1


def test_d4_d6_an_export_whose_worker_was_killed_is_rendered_by_another_and_its_scratch_swept(
    celery_procs, make_clips, settings, tmp_path
):
    settings.EXPORT_TILE_HEIGHT = 90
    prompt = make_clips(prompts=1)[0]
    jobs = list(GenerationJob.objects.filter(prompt=prompt).select_related("clip", "model").order_by("model__slug"))
    slow_ffmpeg = tmp_path / "slow-ffmpeg"  # the doomed worker's ffmpeg hangs, so it dies mid-render
    # (after writing the start of its output, as a real one would); the worker's checks
    # (`-version`, `-encoders`: an option last, no output) are answered by the real ffmpeg at
    # once, writing nothing into the cwd
    slow_ffmpeg.write_text(
        '#!/bin/sh\nfor out; do :; done\ncase "$out" in -*) exec ffmpeg "$@" ;; esac\n'
        'echo partial > "$out"\nsleep 60\nexec ffmpeg "$@"\n'
    )
    slow_ffmpeg.chmod(0o755)
    short = {"JOB_LEASE_S": "3", "JOB_HEARTBEAT_S": "0.5", "REAPER_INTERVAL_S": "1"}
    doomed = celery_procs.worker(
        "export-doomed@localhost", queues="media", env={**short, "FFMPEG_BINARY": str(slow_ffmpeg)}
    )
    export, created = exports.request_export(prompt, jobs[:2])
    assert created
    wait_for(
        lambda: SideBySideExport.objects.filter(pk=export.pk, state=ExportState.RUNNING).exists(),
        timeout=60,
        what="the doomed worker to claim the export",
        logs=doomed.log,
    )
    time.sleep(1)  # inside the render: scratch written, ffmpeg hanging
    doomed.kill()
    assert any(p.is_file() for p in settings.WORK_DIR.rglob("*")), "the killed worker left no scratch to sweep"
    celery_procs.worker("export-rescuer@localhost", queues="media,default", env=short)
    celery_procs.beat(env=short)
    wait_for(
        lambda: SideBySideExport.objects.get(pk=export.pk).is_terminal,
        timeout=90,
        what="recovery",
        logs=celery_procs.logs,
    )
    export.refresh_from_db()
    assert export.state == ExportState.SUCCEEDED and export.attempts == 2, export.error_message
    left = [p for p in settings.WORK_DIR.rglob("*") if p.is_file()]
    assert left == [], f"scratch files of the dead worker: {left}"
