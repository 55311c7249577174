"""Thin Celery tasks of the studio: each takes a job id and hands it to a service that claims
the job in the database first, so a duplicated or redelivered message is a no-op."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

from webapp.core.storage import sweep_scratch
from webapp.core.tasks import worker_identity

from .services import jobs, measurements, originals, pipeline, undeleted
from .services.queue import (
    GENERATE,
    GENERATE_LOCAL,
    MEASURE_CLIP,
    PROCESS_CLIP,
    REAP_STALE_JOBS,
    REMEASURE_CLIPS,
    TAG_ORIGINAL,
)


@shared_task(bind=True, name=GENERATE.name)
def generate(self, job_id: int) -> None:
    pipeline.generate_step(job_id, owner=worker_identity(self))


@shared_task(bind=True, name=GENERATE_LOCAL.name)
def generate_local(self, job_id: int) -> None:
    """The generate step on a `gpu` queue worker (models on the deployment's own GPUs)."""
    pipeline.generate_step(job_id, owner=worker_identity(self))


@shared_task(bind=True, name=PROCESS_CLIP.name)
def process_clip(self, job_id: int) -> None:
    pipeline.media_step(job_id, owner=worker_identity(self))


@shared_task(name=TAG_ORIGINAL.name)
def tag_original(clip_id: int) -> None:
    originals.make_tagged_original(clip_id)


@shared_task(name=MEASURE_CLIP.name)
def measure_clip(clip_id: int) -> None:
    measurements.measure_stored_clip(clip_id)


@shared_task(name=REMEASURE_CLIPS.name)
def remeasure_clips() -> dict:
    return measurements.send_outdated()


@shared_task(name=REAP_STALE_JOBS.name)
def reap_stale_jobs() -> dict:
    return {
        **jobs.reap_stale_jobs(),
        "scratch_swept": sweep_scratch(),
        "undeleted_files_deleted": undeleted.retry_deletions(),
    }


@worker_ready.connect
def recover_own_orphans(sender=None, **kwargs) -> None:
    """A worker that starts under a node name can hold no live job yet, so any lease still
    recorded for that name belongs to a previous incarnation that died: free it now rather
    than waiting for the lease to run out. Scratch space left by dead processes goes too."""
    sweep_scratch()
    jobs.release_leases_of_node(sender.hostname)
