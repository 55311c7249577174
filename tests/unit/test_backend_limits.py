"""Per-backend concurrency cap and rate limit, shared by all workers (Redis) or all processes
on one machine (file lock), and the generate_step hook that defers instead of busy-waiting."""

import multiprocessing
import time
import uuid

import pytest
from django.conf import settings

from tests.conftest import record_sent
from tests.fakes import backends as fakes
from webapp.catalog.models import VideoModel
from webapp.studio.models import JobState
from webapp.studio.services import backend_limits, pipeline, queue
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import registry
from workers.backends.limits import FileLimiter, Limits, RedisLimiter


def redis_limiters(n):
    prefix = f"limits-test-{uuid.uuid4().hex}"
    return [RedisLimiter(settings.REDIS_URL, prefix) for _ in range(n)]


def file_limiters(n, tmp_path):
    return [FileLimiter(tmp_path) for _ in range(n)]


@pytest.fixture(
    params=[pytest.param("redis", marks=pytest.mark.redis(reason="RedisLimiter's Lua scripts in Redis")), "file"]
)
def two_workers(request, tmp_path):
    if request.param == "redis":
        return redis_limiters(2)
    return file_limiters(2, tmp_path)


def test_the_cap_holds_across_limiters_and_a_release_frees_a_slot(two_workers):
    a, b = two_workers
    limits = Limits(group="vendor-x", max_concurrency=2, lease_s=60)
    assert a.acquire(limits, "job-1").granted and b.acquire(limits, "job-2").granted
    refused = b.acquire(limits, "job-3")
    assert not refused.granted and refused.reason == "concurrency" and 0 < refused.retry_after <= 60
    assert a.acquire(limits, "job-1").granted  # the holder itself is not refused
    a.release(limits, "job-1")
    assert b.acquire(limits, "job-3").granted


def test_an_expired_lease_frees_its_slot(two_workers):
    a, b = two_workers
    limits = Limits(group="vendor-y", max_concurrency=1, lease_s=0.2)
    assert a.acquire(limits, "crashed-job").granted
    assert not b.acquire(limits, "job-2").granted

    time.sleep(0.3)
    assert b.acquire(limits, "job-2").granted


def test_the_token_bucket_spaces_starts(two_workers):
    a, b = two_workers
    limits = Limits(group="vendor-z", rate_per_minute=60, burst=2)
    assert a.acquire(limits, "j1").granted and b.acquire(limits, "j2").granted
    refused = a.acquire(limits, "j3")
    assert not refused.granted and refused.reason == "rate" and 0 < refused.retry_after <= 1.01


def _grab(directory, holder, out):
    out.put(FileLimiter(directory).acquire(Limits(group="g", max_concurrency=3, lease_s=60), holder).granted)


def test_the_file_limiter_holds_across_processes(tmp_path):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_grab, args=(tmp_path, f"job-{i}", out)) for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert sorted(out.get(timeout=5) for _ in procs).count(True) == 3


@pytest.mark.django_db
def test_generate_step_defers_a_job_over_the_cap_without_using_an_attempt(
    monkeypatch, django_capture_on_commit_callbacks, tmp_path
):
    monkeypatch.setitem(registry.BACKENDS, "fake-TestPattern", "tests.fakes.backends.TestPattern")
    registry.backend_class.cache_clear()
    fakes.CALLS.clear()
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, args[0], countdown)))
    # the stack's own limiter: Redis, or on the embedded defaults the file one
    limiter = redis_limiters(1)[0] if settings.REDIS_URL else file_limiters(1, tmp_path)[0]
    monkeypatch.setattr(backend_limits, "limiter", lambda: limiter)
    VideoModel.objects.create(
        slug="capped",
        display_name="Capped",
        vendor="v",
        backend_key="fake-TestPattern",
        backend_params={"base_width": 320, "base_height": 180, "max_concurrency": 1, "limit_group": "capped-test"},
    )
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_prompt(PromptInput(text="a test pattern", models=["capped"], duration_s=1, seed=1)).jobs.get()
    limits = Limits(group="capped-test", max_concurrency=1, lease_s=60)
    assert limiter.acquire(limits, "another-job").granted  # someone else holds the only slot
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="w1")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error_code) == (JobState.QUEUED, 0, "deferred_by_limit")
    assert fakes.CALLS == []  # the vendor was never called
    assert [(name, job_id) for name, job_id, _ in sent] == [(queue.GENERATE.name, job.pk)]
    assert 0 < sent[0][2] <= 15  # re-queued with a delay, no busy wait
    limiter.release(limits, "another-job")
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.generate_step(job.pk, owner="w1")
    job.refresh_from_db()
    assert job.state == JobState.PROCESSING and job.attempts == 1 and fakes.CALLS == ["TestPattern"]
    assert limiter.holders("capped-test") == []  # released after the call
    registry.backend_class.cache_clear()
