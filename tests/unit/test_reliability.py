"""Issue 16's defects, each reproduced against the real code: a broker that refuses the
connection (a port nothing listens on), the reaper's decisions on real rows."""

import os
import signal
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.utils import timezone

from tests.conftest import record_sent, stored_files
from webapp.core.storage import failure_code, scratch_dir, store, sweep_scratch
from webapp.studio.models import GenerationJob, JobState
from webapp.studio.public_errors import public_message
from webapp.studio.services import jobs, pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_broker():
    """Celery pointed at a Redis port nothing listens on: every send fails as in an outage."""
    app = current_app._get_current_object()
    saved = app.conf.broker_url, app.conf.broker_write_url

    def reconnect(url):
        app.conf.broker_url = app.conf.broker_write_url = url
        app._pool = None
        app.__dict__.get("amqp") and setattr(app.amqp, "_producer_pool", None)

    reconnect(f"redis://127.0.0.1:{_closed_port()}/0")
    yield
    app.conf.broker_url, app.conf.broker_write_url = saved
    reconnect(saved[0])
    app.conf.broker_write_url = saved[1]


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    return messages


def _job(django_capture_on_commit_callbacks, text="a cat"):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text=text, models=["demo-aurora"], seed=1))
    return prompt.jobs.get()


def _age(job, **fields):
    GenerationJob.objects.filter(pk=job.pk).update(**fields)


# --- D2: an enqueue that fails after the commit ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_d2_api_submission_with_the_broker_down_answers_201_and_the_reaper_sends_it(
    demo_models, dead_broker, client, monkeypatch
):
    response = client.post(
        "/api/v1/prompts",
        data={"prompt": "a fox in the snow", "models": ["demo-aurora"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    job = GenerationJob.objects.get()
    assert (job.state, job.enqueued_at) == (JobState.QUEUED, None)  # saved, and known not sent
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    _age(job, queued_at=timezone.now() - timedelta(seconds=jobs.UNSENT_GRACE_S + 1))
    assert jobs.reap_stale_jobs()["resent"] == 1  # not after JOB_QUEUED_STALE_S: nothing is on its way
    assert messages == [("studio.generate", job.pk)]


@pytest.mark.django_db(transaction=True)
def test_d2_hand_over_with_the_broker_down_keeps_the_original_and_the_reaper_resends(
    demo_models, media_root, dead_broker, monkeypatch
):
    with_broker_down = submit_prompt(PromptInput(text="a heron", models=["demo-aurora"], seed=2))
    job = with_broker_down.jobs.get()
    pipeline.generate_step(job.pk, owner="g pid 1")
    job.refresh_from_db()
    assert job.state == JobState.PROCESSING and job.original.name
    assert default_storage.exists(job.original.name)  # the committed row's file is kept
    assert stored_files(media_root) == [job.original.name]
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0])))
    _age(job, queued_at=timezone.now() - timedelta(seconds=jobs.UNSENT_GRACE_S + 1))
    assert jobs.reap_stale_jobs()["resent"] == 1
    assert messages == [("studio.process_clip", job.pk)]
    pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED


# --- D1: handed to the media step, message lost ---------------------------------------------


def test_d1_a_processing_job_whose_media_message_was_lost_is_resent(
    demo_models, sent, settings, django_capture_on_commit_callbacks
):
    job = _job(django_capture_on_commit_callbacks)
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    jobs.finish(held, JobState.PROCESSING)  # lease cleared, as at the hand-over
    _age(job, enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_STALE_S - 5))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs()["resent"] == 0  # its message may still be queued
    _age(job, enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_STALE_S + 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs()["resent"] == 1
    assert sent == [("studio.process_clip", job.pk)]
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.PROCESSING


# --- D5: no flood under a backlog -----------------------------------------------------------


def test_d5_each_resend_doubles_the_quiet_period_and_is_counted(
    demo_models, sent, settings, django_capture_on_commit_callbacks
):
    job = _job(django_capture_on_commit_callbacks)
    stale = settings.JOB_QUEUED_STALE_S
    for resends, quiet in enumerate((stale, 2 * stale, 4 * stale)):
        _age(job, enqueued_at=timezone.now() - timedelta(seconds=quiet - 5))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.reap_stale_jobs()["resent"] == 0, f"re-sent too early after {resends} re-sends"
        _age(job, enqueued_at=timezone.now() - timedelta(seconds=quiet + 1))
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.reap_stale_jobs()["resent"] == 1
        assert GenerationJob.objects.get(pk=job.pk).resend_count == resends + 1
    assert len(sent) == 3


def test_d5_a_dead_workers_job_is_resent_once_not_every_reaper_run(
    demo_models, sent, django_capture_on_commit_callbacks
):
    job = _job(django_capture_on_commit_callbacks)
    jobs.claim(job.pk, stage=JobState.RUNNING, owner="dead pid 1")
    _age(job, lease_expires_at=timezone.now() - timedelta(seconds=1))
    for _ in range(3):  # the resent message waits behind a backlog: no copy per run
        with django_capture_on_commit_callbacks(execute=True):
            jobs.reap_stale_jobs()
    assert sent == [("studio.generate", job.pk)]
    row = GenerationJob.objects.get(pk=job.pk)
    assert (row.state, row.lease_owner, row.resend_count) == (JobState.QUEUED, "", 1)


# --- D3: a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of 256 KiB with about 16 KiB left (a tmpfs mounted for the test,
    which needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        (mount / "filler").write_bytes(b"\0" * (240 * 1024))
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_d3_a_full_scratch_disk_fails_the_media_step_as_storage_full(
    demo_models, media_root, small_disk, sent, settings, django_capture_on_commit_callbacks
):
    job = _job(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    settings.WORK_DIR = small_disk / "work"  # ffmpeg's output does not fit
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.PROCESSING, "storage_full"), job.error_message
    assert _all_files(settings.WORK_DIR) == []


@pytest.fixture
def full_media_root(settings, small_disk, tmp_path):
    """MEDIA_ROOT on the nearly full small disk; scratch elsewhere."""
    settings.MEDIA_ROOT = small_disk / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.WORK_DIR = tmp_path / "work"
    return settings.MEDIA_ROOT


def _all_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_d3_storing_on_a_full_disk_leaves_no_partial_file_and_says_storage_full(full_media_root, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(200 * 1024))
    with pytest.raises(OSError) as raised:
        store(big, "clips", ".mp4")
    assert failure_code(raised.value) == "storage_full"
    assert getattr(raised.value, "code", None) == "storage_full"
    assert _all_files(full_media_root) == []  # not even a hidden partial
    small = tmp_path / "small.jpg"
    small.write_bytes(b"x" * 1000)
    name = store(small, "posters", ".jpg")
    assert _all_files(full_media_root) == [name]  # a file that fits is stored under its name


def test_d3_a_full_media_disk_fails_the_generate_step_as_storage_full_without_orphans(
    demo_models, full_media_root, sent, django_capture_on_commit_callbacks
):
    job = _job(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.QUEUED, "storage_full")  # retried later
    assert public_message(job.error_code, final=False) != public_message("no such code", final=False)
    assert _all_files(full_media_root) == []


# --- D8: the media step's time limits -------------------------------------------------------


@pytest.fixture
def hanging_ffprobe(tmp_path, settings):
    """An ffprobe that hangs (a real process that never answers)."""
    script = tmp_path / "ffprobe"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    settings.FFPROBE_BINARY = str(script)
    return script


def _processing_job(django_capture_on_commit_callbacks):
    job = _job(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="g pid 1")
    job.refresh_from_db()
    assert job.state == JobState.PROCESSING
    return job


def test_d8_a_soft_time_limit_in_the_media_step_is_recorded_as_timed_out(
    demo_models, media_root, sent, hanging_ffprobe, django_capture_on_commit_callbacks
):
    job = _processing_job(django_capture_on_commit_callbacks)

    def soft_limit(signum, frame):  # what Celery's pool does when the soft limit is reached
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.media_step(job.pk, owner="m pid 1")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.PROCESSING, "timed_out")  # retried, like the generate step
    assert sent[-1] == ("studio.process_clip", job.pk)


def test_d8_the_probe_timeout_comes_from_settings(
    demo_models, media_root, sent, settings, hanging_ffprobe, django_capture_on_commit_callbacks
):
    job = _processing_job(django_capture_on_commit_callbacks)
    settings.MEDIA_PROBE_TIMEOUT_S = 0.5
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert job.error_code == "ffmpeg_timeout"
    assert "after 0.5 s" in job.error_message  # not the 20 s that was hard-coded


# --- D6: scratch space of dead workers ------------------------------------------------------


def test_d6_scratch_of_a_dead_process_is_swept_a_live_ones_is_kept(media_root, settings):
    with scratch_dir("job1-") as mine:
        assert mine.parent.name == f"{socket.gethostname()}-{os.getpid()}"
        (mine / "partial.mp4").write_bytes(b"x" * 100)
        dead = subprocess.Popen(["true"])
        dead.wait()
        killed = settings.WORK_DIR / f"{socket.gethostname()}-{dead.pid}" / "job2-abc"
        killed.mkdir(parents=True)
        (killed / "original.mp4").write_bytes(b"x" * 100)
        old_elsewhere = settings.WORK_DIR / "otherhost-1234"
        fresh_elsewhere = settings.WORK_DIR / "otherhost-5678"
        legacy = settings.WORK_DIR / "job3-xyz"
        for folder in (old_elsewhere, fresh_elsewhere, legacy):
            folder.mkdir()
            (folder / "f").write_bytes(b"x")
        long_ago = time.time() - settings.SCRATCH_MAX_AGE_S - 10
        os.utime(old_elsewhere, (long_ago, long_ago))
        os.utime(legacy, (long_ago, long_ago))
        assert sweep_scratch() == 3
        left = sorted(p.name for p in settings.WORK_DIR.iterdir())
        assert left == sorted([mine.parent.name, "otherhost-5678"])
        assert (mine / "partial.mp4").exists()  # a live process's work is never touched
    assert not mine.exists()
