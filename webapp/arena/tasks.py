"""Celery tasks of the arena."""

from celery import shared_task

from .services import refresh


@shared_task(name=refresh.REFRESH_BOARDS.name)
def refresh_boards() -> int:
    return refresh.refresh_boards()
