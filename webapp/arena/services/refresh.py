"""Refreshing the boards: what the periodic task (and `manage.py recompute_ratings`) runs.

Hidden clips are re-applied to votes, voters who voted since the last boards are tested for
outliers, then every pool's boards are recomputed.
"""

from __future__ import annotations

from webapp.core.tasks import TaskRoute, send_on_commit

from . import board, exclusions, outliers

REFRESH_BOARDS = TaskRoute("arena.refresh_boards")


def refresh_boards() -> int:
    """Returns the number of boards computed."""
    exclusions.reconcile_hidden_clips()
    outliers.check_recent_voters()
    return board.recompute_all()


def refresh_soon(delay_s: float) -> None:
    """Ask a worker to refresh the boards `delay_s` seconds after the current transaction
    commits (moderation decisions change what counts)."""
    send_on_commit(REFRESH_BOARDS, countdown=delay_s)
