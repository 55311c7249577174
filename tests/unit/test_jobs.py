"""The job state machine: compare-and-set claims, leases, retries and the reaper."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import record_sent
from webapp.studio.models import GenerationJob, JobState
from webapp.studio.services import jobs
from webapp.studio.services.submission import PromptInput, submit_prompt


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args[0], countdown)))
    return messages


@pytest.fixture
def job(demo_models, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="a cat", models=["demo-aurora"], seed=1))
    return prompt.jobs.get()


pytestmark = pytest.mark.django_db


def test_claim_is_exclusive_and_counts_attempts(job):
    first = jobs.claim(job.pk, stage=JobState.RUNNING, owner="w1 pid 1")
    assert first is not None and first.state == JobState.RUNNING and first.attempts == 1
    assert first.lease_expires_at > timezone.now()
    assert jobs.claim(job.pk, stage=JobState.RUNNING, owner="w2 pid 2") is None


def test_expired_lease_can_be_taken_over_and_the_old_holder_cannot_finish(job):
    first = jobs.claim(job.pk, stage=JobState.RUNNING, owner="w1 pid 1")
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = jobs.claim(job.pk, stage=JobState.RUNNING, owner="w2 pid 2")
    assert second is not None and second.attempts == 2
    assert jobs.finish(first, JobState.FAILED, error_code="x") is False
    assert jobs.finish(second, JobState.FAILED, error_code="x") is True


def test_attempts_are_bounded(job, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    for owner in ("a pid 1", "b pid 2"):
        assert jobs.claim(job.pk, stage=JobState.RUNNING, owner=owner)
        GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs.claim(job.pk, stage=JobState.RUNNING, owner="c pid 3") is None


def test_processing_stage_only_from_processing(job):
    assert jobs.claim(job.pk, stage=JobState.PROCESSING, owner="m pid 1") is None
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    assert jobs.finish(held, JobState.PROCESSING)
    assert GenerationJob.objects.get(pk=job.pk).lease_expires_at is None
    processing = jobs.claim(job.pk, stage=JobState.PROCESSING, owner="m pid 1")
    assert (processing.attempts, processing.media_attempts) == (1, 1)


def test_release_for_retry_requeues_with_backoff_then_gives_up(job, sent, settings, django_capture_on_commit_callbacks):
    settings.JOB_MAX_ATTEMPTS = 2
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.release_for_retry(held, error_code="rate_limited", error_message="429", delay_s=7)
    row = GenerationJob.objects.get(pk=job.pk)
    assert (row.state, row.error_code, row.lease_owner) == (JobState.QUEUED, "rate_limited", "")
    assert sent == [("studio.generate", job.pk, 7)]
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    assert not jobs.release_for_retry(held, error_code="rate_limited", error_message="429", delay_s=7)
    row = GenerationJob.objects.get(pk=job.pk)
    assert row.state == JobState.FAILED and "gave up after 2 attempts" in row.error_message


def test_vendor_job_id_recorded_only_by_the_holder(job):
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    jobs.record_vendor_job_id(held, "vendor-123")
    assert GenerationJob.objects.get(pk=job.pk).vendor_job_id == "vendor-123"
    GenerationJob.objects.filter(pk=job.pk).update(lease_owner="someone else")
    jobs.record_vendor_job_id(held, "vendor-456")
    assert GenerationJob.objects.get(pk=job.pk).vendor_job_id == "vendor-123"


def test_reaper_resends_expired_and_lost_jobs_and_fails_exhausted_ones(
    job, sent, settings, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 2
    past = timezone.now() - timedelta(seconds=1)
    # 1) a running job whose worker died
    jobs.claim(job.pk, stage=JobState.RUNNING, owner="dead pid 1")
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs() == {"resent": 1, "failed": 0}
    assert sent == [("studio.generate", job.pk, None)]
    # 2) out of attempts: failed with a clear reason, not resent
    jobs.claim(job.pk, stage=JobState.RUNNING, owner="dead pid 2")
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs() == {"resent": 0, "failed": 1}
    row = GenerationJob.objects.get(pk=job.pk)
    assert row.state == JobState.FAILED and row.error_code == "attempts_exhausted"


def test_reaper_resends_a_queued_job_whose_message_was_lost_but_not_a_fresh_one(
    job, sent, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs()["resent"] == 0
    GenerationJob.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_STALE_S + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_jobs()["resent"] == 1
    assert sent == [("studio.generate", job.pk, None)]
    with django_capture_on_commit_callbacks(execute=True):  # just resent: quiet again
        assert jobs.reap_stale_jobs()["resent"] == 0


def test_restarted_node_recovers_only_its_own_leases(demo_models, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="two jobs", models=["demo-aurora", "demo-lumen"], seed=1))
    mine, other = prompt.jobs.order_by("pk")
    jobs.claim(mine.pk, stage=JobState.RUNNING, owner="celery@a pid 10")
    jobs.claim(other.pk, stage=JobState.RUNNING, owner="celery@ab pid 11")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.release_leases_of_node("celery@a") == 1
    assert sent == [("studio.generate", mine.pk, None)]


def test_retry_failed_and_cancel_queued(job, sent, django_capture_on_commit_callbacks):
    held = jobs.claim(job.pk, stage=JobState.RUNNING, owner="g pid 1")
    jobs.finish(held, JobState.FAILED, error_code="boom", error_message="boom")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.retry_failed([job.pk]) == 1
    row = GenerationJob.objects.get(pk=job.pk)
    assert (row.state, row.attempts, row.error_code) == (JobState.QUEUED, 0, "")
    assert jobs.cancel_queued([job.pk], "by test") == 1
    assert GenerationJob.objects.get(pk=job.pk).state == JobState.CANCELLED
    assert jobs.retry_failed([job.pk]) == 0  # cancelled is not failed


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_have_one_winner(demo_models):
    prompt = submit_prompt(PromptInput(text="race", models=["demo-aurora"], seed=1))
    job_id = prompt.jobs.get().pk
    barrier = threading.Barrier(8)
    winners = []

    def contend(n):
        from django.db import connections

        barrier.wait()
        if jobs.claim(job_id, stage=JobState.RUNNING, owner=f"w{n} pid {n}"):
            winners.append(n)
        connections.close_all()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert GenerationJob.objects.get(pk=job_id).attempts == 1


def test_the_jobs_table_has_no_index_on_prompt_alone_but_two_that_start_with_it():
    """Migration 0014: a lookup, join or cascade by prompt uses (prompt, state) or the unique
    (prompt, model); an index on prompt_id alone only cost writes and space."""
    table = GenerationJob._meta.db_table
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, table)
    columns = [tuple(info["columns"]) for info in indexes.values() if info["index"] or info["unique"]]
    assert ("prompt_id",) not in columns, indexes
    assert ("prompt_id", "state") in columns and ("prompt_id", "model_id") in columns
