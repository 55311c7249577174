"""Celery tasks of the gallery."""

from celery import shared_task

from webapp.core.tasks import worker_identity

from .services import exports


@shared_task(name=exports.REAP_STALE_EXPORTS.name)
def reap_stale_exports() -> dict:
    return exports.reap_stale_exports()


@shared_task(bind=True, name=exports.RENDER.name)
def render_side_by_side(self, export_id: int) -> None:
    exports.render_step(export_id, owner=worker_identity(self))
