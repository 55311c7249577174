"""Per-pair tallies of counted votes: read, check against the votes, rebuild.

The database keeps `VoteTally` in step with `Vote` through triggers (arena migration 0002),
so this module never adds or subtracts votes itself. `drift()` is the proof: it compares the
tallies with a GROUP BY over every vote, the query the tallies replace.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Sum

from .. import sql
from ..models import Vote, VoteTally

KEY = ("pool", "category", "model_a_id", "model_b_id", "winner")


def counted_rows(pool: str, category: str = ""):
    """``(slug_a, slug_b, winner, votes)`` for the models still in the arena; ``category``
    "" sums every category."""
    tallies = VoteTally.objects.filter(pool=pool, votes__gt=0, model_a__in_arena=True, model_b__in_arena=True)
    if category:
        tallies = tallies.filter(category=category)
    return tallies.values_list("model_a__slug", "model_b__slug", "winner").annotate(n=Sum("votes")).order_by()


def pair_counts(pool: str) -> dict[frozenset[int], int]:
    """Counted votes per unordered pair of model ids in a pool, as of now (all categories)."""
    counts: dict[frozenset[int], int] = {}
    for model_a, model_b, n in (
        VoteTally.objects.filter(pool=pool, votes__gt=0)
        .values_list("model_a_id", "model_b_id")
        .annotate(n=Sum("votes"))
        .order_by()
    ):
        key = frozenset((model_a, model_b))
        counts[key] = counts.get(key, 0) + n
    return counts


def categories(pool: str) -> list[str]:
    """Categories of a pool that have (or had) counted votes."""
    return list(
        VoteTally.objects.filter(pool=pool)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


def _from_votes() -> dict[tuple, int]:
    grouped = Vote.objects.counted().values_list(*KEY).annotate(n=Count("id")).order_by()
    return {tuple(row[:-1]): row[-1] for row in grouped}


def drift() -> dict[tuple, tuple[int, int]]:
    """Keys where the tally differs from the votes: ``{key: (tally, votes)}``; empty when in step."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:  # one snapshot for both reads
            sql.repeatable_read()
        tallied = {tuple(row[:-1]): row[-1] for row in VoteTally.objects.exclude(votes=0).values_list(*KEY, "votes")}
        counted = _from_votes()
    return {
        key: (tallied.get(key, 0), counted.get(key, 0))
        for key in tallied.keys() | counted.keys()
        if tallied.get(key, 0) != counted.get(key, 0)
    }


def rebuild() -> int:
    """Recount every tally from the votes; returns the number of tally rows. Vote writers
    wait for it (PostgreSQL: a SHARE lock on arena_vote), readers do not."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            sql.block_vote_writers()
        VoteTally.objects.all().delete()
        VoteTally.objects.bulk_create(VoteTally(**dict(zip(KEY, key)), votes=n) for key, n in _from_votes().items())
        return VoteTally.objects.count()
