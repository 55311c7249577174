"""Per-backend concurrency cap and rate limit for generate_step, shared by every worker: Redis
when REDIS_URL is set, a flock'ed file under DATA_DIR otherwise (workers.backends.limits)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.conf import settings

from workers.backends.limits import FileLimiter, Grant, RedisLimiter, limits_from_params

from ..models import GenerationJob


@cache
def _limiter(redis_url: str, prefix: str, directory: str):
    return RedisLimiter(redis_url, prefix) if redis_url else FileLimiter(Path(directory))


def limiter():
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "screentest"
    return _limiter(settings.REDIS_URL or "", prefix, str(settings.DATA_DIR / "limits"))


@contextmanager
def backend_slot(job: GenerationJob):
    """Yields a Grant; a granted slot is released when the block ends, however it ends."""
    # A slot is not renewed while held: it outlives the hard time limit, so only a dead worker's
    # slot ever runs out.
    lease_s = settings.JOB_TIME_LIMIT_S + 60
    limits = limits_from_params(job.model.backend_key, job.model.backend_params or {}, lease_s=lease_s)
    if not limits.active:
        yield Grant(True)
        return
    holder = f"job-{job.pk}"
    grant = limiter().acquire(limits, holder)
    try:
        yield grant
    finally:
        if grant.granted:
            limiter().release(limits, holder)
