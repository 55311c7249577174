"""Claiming a row under a lease: the one compare-and-set that lets any number of workers hold
copies of the same message while exactly one does the work.

A row to be claimed has `lease_owner`, `lease_expires_at` and an attempts counter. The claim
is a single conditional UPDATE: whoever's UPDATE matched the row proceeds, everyone else sees 0
rows and stops. A live worker keeps its lease by renewing it (`kept_alive`: a heartbeat every
JOB_HEARTBEAT_S, well inside JOB_LEASE_S); a dead one stops renewing, its lease runs out within
JOB_LEASE_S and the row becomes claimable again. So a short lease recovers a dead worker's work
quickly without taking a long task from a live one. (The hard time limit kills the worker's
process, heartbeat included.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

log = logging.getLogger(__name__)


def expired(now: datetime) -> Q:
    """No lease, or one that has run out."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def lease_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.JOB_LEASE_S)


def claim(rows: QuerySet, *, claimable: Q, owner: str, counter: str, **fields: Any) -> bool:
    """Take the one row of `rows` that is `claimable` and has attempts left on `counter`:
    set the lease to `owner`, count the attempt, and apply `fields`. True when we got it."""
    updated = rows.filter(claimable, **{f"{counter}__lt": settings.JOB_MAX_ATTEMPTS}).update(
        lease_owner=owner, lease_expires_at=lease_until(), **{counter: F(counter) + 1}, **fields
    )
    return updated == 1


@contextmanager
def kept_alive(held: QuerySet) -> Iterator[None]:
    """While the block runs, renew the lease of the row `held` selects (it must filter on our
    `lease_owner`, so a row we no longer hold is never renewed) every JOB_HEARTBEAT_S, from a
    thread with its own database connection. A renewal that fails is logged and tried again
    at the next beat; if none succeeds the lease runs out, as for a dead worker."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_S):
                try:
                    held.update(lease_expires_at=lease_until())
                except Exception as exc:
                    log.warning("could not renew a lease: %s", exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
