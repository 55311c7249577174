"""Claiming a row under a lease: the one compare-and-set that lets any number of workers hold
copies of the same message while exactly one does the work.

A row to be claimed has `lease_owner`, `lease_expires_at` and an attempts counter. The claim
is a single conditional UPDATE: whoever's UPDATE matched the row proceeds, everyone else sees 0
rows and stops. A live worker finishes before its lease runs out (the lease outlives the task
time limit); a dead one's lease expires and the row becomes claimable again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone


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
