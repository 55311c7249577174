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
    task: TaskRoute,
    *args: Any,
    countdown: float | None = None,
    then: Callable[[], None] | None = None,
    otherwise: Callable[[], None] | None = None,
) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside one), then
    call `then` (e.g. to note when the message went out), or `otherwise` when it could not be
    sent (e.g. to note that it was not). Nothing raised here reaches the caller: the rows are
    committed by then, so an error must not undo anything that refers to them (a web request
    answering 500 for a saved prompt, a worker deleting a file a saved row names). A failure is
    logged, and the reaper sends the work again."""

    def send_now() -> None:
        try:
            send(task, *args, countdown=countdown)
        except Exception:
            log.exception("could not send %s%r; the reaper will send it again", task.name, tuple(args))
            _call_logged(otherwise, "noting that %s%r was not sent failed", task.name, args)
            return
        _call_logged(then, "%s%r was sent, but noting it failed", task.name, args)

    # robust: should anything still escape, Django logs it instead of raising it after the commit.
    transaction.on_commit(send_now, robust=True)


def _call_logged(callback: Callable[[], None] | None, message: str, name: str, args: tuple) -> None:
    if callback is not None:
        try:
            callback()
        except Exception:
            log.exception(message, name, tuple(args))


def worker_identity(task: Any) -> str:
    """A lease owner for the task's worker: "<node name> pid <pid>". The node name lets a
    restarted worker recognise, and free, the leases of its dead predecessor."""
    return f"{task.request.hostname or 'local'} pid {os.getpid()}"
