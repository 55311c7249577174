"""Sending work to Celery. Always after the surrounding transaction commits, so a worker never
looks for a row that is not there yet; a broker outage is logged, not raised, because the job
row is already safe and the reaper will send it again."""

import logging
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from workers.celery import app

log = logging.getLogger(__name__)

GENERATE = "workers.tasks.generate"
PROCESS_CLIP = "workers.tasks.process_clip"


def _send(task_name: str, job_id: int, countdown: float | None) -> None:
    from ..models import GenerationJob

    app.send_task(task_name, args=[job_id], countdown=countdown)
    GenerationJob.objects.filter(pk=job_id).update(enqueued_at=timezone.now())


def enqueue(task_name: str, job_id: int, *, countdown: float | None = None) -> None:
    transaction.on_commit(partial(_send, task_name, job_id, countdown), robust=True)


def enqueue_many(task_name: str, job_ids: QuerySet | list[int]) -> None:
    for job_id in job_ids:
        enqueue(task_name, job_id)
