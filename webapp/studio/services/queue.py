"""The studio's Celery tasks by name and queue, and sending a job's next step after commit.

The tasks themselves are in webapp/studio/tasks.py; senders need only these constants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from webapp.core.tasks import TaskRoute, send_on_commit
from workers.backends.registry import LOCAL_BACKENDS

from ..models import GenerationJob

GENERATE = TaskRoute("studio.generate", queue="generate")
# The same step for models on the deployment's own GPUs (workers.backends.registry.LOCAL_BACKENDS):
# a queue whose workers run one job per device, so a vendor job never waits behind a GPU job.
GENERATE_LOCAL = TaskRoute("studio.generate_local", queue="gpu")
PROCESS_CLIP = TaskRoute("studio.process_clip", queue="media")
TAG_ORIGINAL = TaskRoute("studio.tag_original", queue="media")
REAP_STALE_JOBS = TaskRoute("studio.reap_stale_jobs")
MEASURE_CLIP = TaskRoute("studio.measure_clip", queue="media")
# Beat: send the measuring task for clips measured by an older version (a bounded batch).
REMEASURE_CLIPS = TaskRoute("studio.remeasure_clips")


def enqueue(task: TaskRoute, job_id: int, *, countdown: float | None = None) -> None:
    """Send `task(job_id)` after commit and note when, so the reaper waits before resending;
    when the broker refused it, note that nothing is on its way (the reaper resends at once)."""

    if task is GENERATE:
        task = generate_route(job_id)

    def sent() -> None:
        # A delayed message is due when its countdown ends: the quiet period starts then.
        GenerationJob.objects.filter(pk=job_id).update(enqueued_at=timezone.now() + timedelta(seconds=countdown or 0))

    def not_sent() -> None:
        GenerationJob.objects.filter(pk=job_id).update(enqueued_at=None)

    send_on_commit(task, job_id, countdown=countdown, then=sent, otherwise=not_sent)


def generate_route(job_id: int) -> TaskRoute:
    """GENERATE_LOCAL for a job whose model runs on local GPUs, else GENERATE."""
    backend_key = GenerationJob.objects.filter(pk=job_id).values_list("model__backend_key", flat=True).first()
    return GENERATE_LOCAL if backend_key in LOCAL_BACKENDS else GENERATE


def enqueue_many(task: TaskRoute, job_ids: Iterable[int]) -> None:
    for job_id in job_ids:
        enqueue(task, job_id)
