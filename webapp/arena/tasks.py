"""Celery tasks of the arena: thin, each hands over to a service."""

from celery import shared_task

from webapp.core.tasks import worker_identity

from .services import battles, refresh, renditions, voters
from .services.voters import Voter


@shared_task(name=refresh.REFRESH_BOARDS.name)
def refresh_boards() -> int:
    return refresh.refresh_boards()


@shared_task(bind=True, name=renditions.RENDER_BATTLE.name)
def render_battle(self, battle_id: int) -> None:
    renditions.render(battle_id, owner=worker_identity(self))


@shared_task(name=renditions.TIDY_BATTLES.name)
def tidy_battles() -> dict:
    return renditions.tidy()


@shared_task(name=battles.PREPARE_NEXT.name)
def prepare_next(voter_key: str, ip_hash: str, logged_in: bool, pool: str) -> None:
    battles.prepare_next(Voter(key=voter_key, ip_hash=ip_hash, logged_in=logged_in), pool)


@shared_task(name=voters.CLEAR_EXPIRED_SESSIONS.name)
def clear_expired_sessions() -> None:
    voters.clear_expired_sessions()
