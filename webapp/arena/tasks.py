"""Celery tasks of the arena: thin, each hands over to a service."""

from celery import shared_task

from webapp.core.tasks import worker_identity

from .services import refresh, renditions


@shared_task(name=refresh.REFRESH_BOARDS.name)
def refresh_boards() -> int:
    return refresh.refresh_boards()


@shared_task(bind=True, name=renditions.RENDER_BATTLE.name)
def render_battle(self, battle_id: int) -> None:
    renditions.render(battle_id, owner=worker_identity(self))


@shared_task(name=renditions.TIDY_BATTLES.name)
def tidy_battles() -> dict:
    return renditions.tidy()
