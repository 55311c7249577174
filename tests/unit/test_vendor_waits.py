"""The generate step against a vendor fake: a vendor's 429 defers the job (no attempt used,
back in the queue for as long as Retry-After says, bounded in total time), and a create whose
answer was lost ends in one vendor job: handed to the media step, or failed with a clear code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import record_sent
from tests.fakes.all_vendors import VENDORS, catalog_entry
from tests.fakes.contract import vendor_env  # noqa: F401
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.public_errors import public_message
from webapp.studio.services import pipeline, queue
from workers.backends.vendor import CREATE_SENT_PREFIX

# No idempotency key, no listing: stop, never re-create. Every other vendor adopts its job.
NO_WAY_TO_LOOK = set(VENDORS) - {"kling", "openai-sora", "luma", "replicate"}
THROTTLED = {"detail": "Request was throttled. Your rate limit resets in ~1s."}  # Replicate's 429 body


def queued_job(key: str, fake) -> GenerationJob:
    model = VideoModel.objects.create(**catalog_entry(key, fake))
    prompt = Prompt.objects.create(
        text="a paper boat", seed=5, duration_s=model.backend_params["durations"][0], aspect_ratio="16:9"
    )
    return GenerationJob.objects.create(prompt=prompt, model=model, state=JobState.QUEUED)


def run_until_settled(job, sent, capture, *, limit: int = 12) -> GenerationJob:
    """Take the job as a worker would each time its message comes back, until it leaves the queue."""
    for _ in range(limit):
        with capture(execute=True):
            pipeline.generate_step(job.pk, owner="w1")
        job.refresh_from_db()
        if job.state != JobState.QUEUED:
            break
    return job


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple[str, int, float | None]] = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0], countdown)))
    return messages


@pytest.mark.django_db
def test_a_429_storm_longer_than_the_attempts_waits_instead_of_failing(
    vendor_env, media_root, sent, settings, django_capture_on_commit_callbacks
):
    fake = vendor_env.start("replicate")
    job = queued_job("replicate", fake)
    storm = settings.JOB_MAX_ATTEMPTS + 2
    fake.fail_next(429, THROTTLED, headers={"Retry-After": "1"}, times=storm, method="POST")
    job = run_until_settled(job, sent, django_capture_on_commit_callbacks)
    assert job.state == JobState.PROCESSING and job.attempts == 1  # no attempt spent on a 429
    generate_sends = [countdown for name, _, countdown in sent if name == queue.GENERATE.name]
    assert generate_sends == [1.0] * storm  # each time back in the queue for Retry-After
    assert len(fake.requests_to(r"predictions$", "POST")) == storm + 1 and len(fake.jobs) == 1


@pytest.mark.django_db
def test_a_429_while_polling_waits_and_resumes_the_same_vendor_job(
    vendor_env, media_root, sent, settings, django_capture_on_commit_callbacks
):
    fake = vendor_env.start("replicate")
    job = queued_job("replicate", fake)
    fake.fail_next(429, THROTTLED, headers={"Retry-After": "2"}, times=settings.JOB_MAX_ATTEMPTS + 1, method="GET")
    job = run_until_settled(job, sent, django_capture_on_commit_callbacks)
    assert job.state == JobState.PROCESSING and job.attempts == 1 and len(fake.jobs) == 1


@pytest.mark.django_db
def test_429s_stop_being_free_after_the_time_bound(
    vendor_env, media_root, sent, settings, django_capture_on_commit_callbacks
):
    fake = vendor_env.start("replicate")
    job = queued_job("replicate", fake)
    settings.VENDOR_RATE_LIMIT_MAX_WAIT_S = 60
    GenerationJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=61))
    fake.fail_next(429, THROTTLED, headers={"Retry-After": "1"}, times=50, method="POST")
    job = run_until_settled(job, sent, django_capture_on_commit_callbacks, limit=settings.JOB_MAX_ATTEMPTS + 1)
    assert (job.state, job.error_code) == (JobState.FAILED, "rate_limited")
    assert job.attempts == settings.JOB_MAX_ATTEMPTS and "gave up after" in job.error_message


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(VENDORS))
def test_a_lost_create_answer_ends_in_one_vendor_job_and_a_clip_or_a_clear_state(
    key, vendor_env, media_root, sent, django_capture_on_commit_callbacks
):
    fake = vendor_env.start(key)
    job = queued_job(key, fake)
    fake.fail_next(200, lose_answer=True, method="POST")
    job = run_until_settled(job, sent, django_capture_on_commit_callbacks)
    assert len(fake.jobs) == 1 and job.attempts == 1  # one paid generation, found in the same attempt
    if key in NO_WAY_TO_LOOK:
        assert (job.state, job.error_code) == (JobState.FAILED, "create_outcome_unknown")
        # the row keeps when the create went out, for whoever checks with the vendor
        assert job.vendor_job_id.startswith(CREATE_SENT_PREFIX) and not job.original
        assert "paying twice" in public_message(job.error_code, final=True)
        assert not Clip.objects.filter(job=job).exists()
    else:
        assert job.state == JobState.PROCESSING and job.vendor_job_id == next(iter(fake.jobs))
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.media_step(job.pk, owner="w1")
        job.refresh_from_db()
        assert job.state == JobState.SUCCEEDED and Clip.objects.filter(job=job).count() == 1
