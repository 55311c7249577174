"""The studio's hand-written SQL: a lock the ORM has no words for."""

from __future__ import annotations

from django.db import connection

SUBMISSION_LOCK = "screentest.submission_budget"


def lock_submissions() -> None:
    """Submissions checked against the spend budget run one at a time until this transaction
    ends, so two cannot both read the same spend and queue and both take the last of it.
    PostgreSQL: a transaction-level advisory lock (no row, no table). SQLite needs none: its
    IMMEDIATE transactions (settings.py) already let one writer in at a time."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_submissions() holds until the transaction ends: call it inside one")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SUBMISSION_LOCK])
