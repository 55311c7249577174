"""Sending work to Celery, always after the surrounding transaction commits, so a worker never
looks for a row that is not there yet.

Apps name their tasks with `TaskRoute` constants (the task's registered name and its queue) in
one module each; the task functions are registered under those names in the app's tasks.py
and found by Celery's autodiscovery. Senders need only the constant, never the task module.
A broker outage is logged, not raised: the row is already safe and a periodic reaper sends
the work again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


# Every route declared anywhere, by task name: what the deployment test checks against the
# queues the compose workers consume.
ROUTES: dict[str, TaskRoute] = {}


@dataclass(frozen=True)
class TaskRoute:
    name: str
    queue: str = "default"

    def __post_init__(self) -> None:
        ROUTES[self.name] = self


def send(task: TaskRoute, *args: Any, countdown: float | None = None) -> None:
    current_app.send_task(task.name, args=list(args), queue=task.queue, countdown=countdown)


def send_on_commit(
    task: TaskRoute, *args: Any, countdown: float | None = None, then: Callable[[], None] | None = None
) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside one), then
    call `then` (e.g. to note when the message went out). A failure to send is logged."""

    def send_now() -> None:
        try:
            send(task, *args, countdown=countdown)
        except Exception:
            log.exception("could not send %s%r; the reaper will send it again", task.name, tuple(args))
            return
        if then is not None:
            try:
                then()
            except Exception:
                log.exception("%s%r was sent, but noting it failed", task.name, tuple(args))

    transaction.on_commit(send_now)


def worker_identity(task: Any) -> str:
    """A lease owner for the task's worker: "<node name> pid <pid>". The node name lets a
    restarted worker recognise, and free, the leases of its dead predecessor."""
    return f"{task.request.hostname or 'local'} pid {os.getpid()}"
