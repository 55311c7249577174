"""Thin Celery tasks: each takes a job id and hands it to a service that claims the job in the
database first, so a duplicated or redelivered message is a no-op."""

import os

from celery import shared_task

from webapp.studio.services import jobs, pipeline


def worker_identity(task) -> str:
    # "<node name> pid <pid>": the node name lets a restarted worker recognise its old leases.
    return f"{task.request.hostname or 'local'} pid {os.getpid()}"


@shared_task(bind=True, name="workers.tasks.generate")
def generate(self, job_id: int) -> None:
    pipeline.generate_step(job_id, owner=worker_identity(self))


@shared_task(bind=True, name="workers.tasks.process_clip")
def process_clip(self, job_id: int) -> None:
    pipeline.media_step(job_id, owner=worker_identity(self))


@shared_task(name="workers.tasks.reap_stale_jobs")
def reap_stale_jobs() -> dict:
    return jobs.reap_stale_jobs()


@shared_task(name="workers.tasks.recompute_ratings")
def recompute_ratings() -> int:
    from webapp.arena.services import board, outliers
    from webapp.moderation.decisions import reconcile_hidden_clip_votes

    reconcile_hidden_clip_votes()
    outliers.check_recent_voters()
    return board.recompute_all()


@shared_task(bind=True, name="workers.tasks.render_side_by_side")
def render_side_by_side(self, export_id: int) -> None:
    from webapp.gallery.services import exports

    exports.render_step(export_id, owner=worker_identity(self))
