"""Voters whose votes disagree with everyone else's far more than chance allows: FastChat's
`outlier_detect` (fastchat/serve/monitor/elo_analysis.py), run before every board recompute.

For a voter with at least OUTLIER_MIN_VOTES votes, each of their first OUTLIER_MAX_VOTES
decisive votes (ties and both-bad say nothing about who is better and are skipped) is compared
with the pair's history in the pool: with w the share of that pair's decisive votes won by the
lower-id model, a vote for it has p_lower = w and p_upper = 1, a vote against it p_upper = 1 - w
and p_lower = 1. The e-values M = prod 1/(2p), one per direction, grow when a voter keeps
picking what others rarely pick; a voter is flagged when either exceeds 1/OUTLIER_ALPHA. For
votes drawn from the pair's history each factor has expectation <= 1, so an honest voter is
flagged with probability <= 2 * alpha whatever their number of votes (Ville's inequality).

A flagged voter's votes are kept, with excluded_reason "outlier_voter" (the tallies and the
boards follow by themselves); their later votes get it at the next recompute, and a voter the
test no longer flags (the history moved towards them) is counted again. Votes on pairs with
fewer than OUTLIER_MIN_PAIR_HISTORY decisive votes are not judged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber

from webapp.studio.models import Prompt

from ..models import ExcludedReason, RatingSnapshot, Vote, VoteTally, Winner

log = logging.getLogger(__name__)

OUTLIER_VOTER = ExcludedReason.OUTLIER_VOTER
DECISIVE = (Winner.MODEL_A, Winner.MODEL_B)  # ties and both-bad say nothing about who is better


def _pair_history(pool: str) -> dict[tuple[int, int], tuple[int, int]]:
    """(lower id, higher id) -> (decisive votes won by the lower id model, decisive votes)."""
    history: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    rows = VoteTally.objects.filter(pool=pool, votes__gt=0, winner__in=DECISIVE).values_list(
        "model_a_id", "model_b_id", "winner", "votes"
    )
    for model_a, model_b, winner, n in rows:
        pair = (min(model_a, model_b), max(model_a, model_b))
        winner_id = model_a if winner == Winner.MODEL_A else model_b
        history[pair][0] += n if winner_id == pair[0] else 0
        history[pair][1] += n
    return {pair: (won, total) for pair, (won, total) in history.items()}


def is_outlier(
    votes: list[tuple[int, int, str]],
    history: dict[tuple[int, int], tuple[int, int]],
    *,
    alpha: float,
    max_votes: int,
    min_pair_history: int,
) -> bool:
    """FastChat's sequential e-value test over one voter's (model_a, model_b, winner) votes."""
    m_upper = m_lower = 1.0
    judged = 0
    for model_a, model_b, winner in votes:
        if judged >= max_votes:
            break
        if winner not in DECISIVE:
            continue
        pair = (min(model_a, model_b), max(model_a, model_b))
        won, total = history.get(pair, (0, 0))
        if total < min_pair_history:
            continue
        judged += 1
        share = won / total
        picked_lower = (model_a if winner == Winner.MODEL_A else model_b) == pair[0]
        p_upper, p_lower = (1.0, share) if picked_lower else (1.0 - share, 1.0)
        m_upper *= 0.5 / p_upper if p_upper > 0 else float("inf")
        m_lower *= 0.5 / p_lower if p_lower > 0 else float("inf")
        if m_upper > 1 / alpha or m_lower > 1 / alpha:
            return True
    return False


def exclude_outlier_voters(pool: str, *, since: datetime | None = None) -> list[str]:
    """Check the voters who cast a vote in ``pool`` since ``since`` (all voters if None) and
    exclude the votes of those flagged. Returns the flagged voter keys."""
    alpha = settings.OUTLIER_ALPHA
    if not alpha > 0:
        return []
    judged = Vote.objects.filter(pool=pool, anony=True, excluded_reason__in=(ExcludedReason.COUNTED, OUTLIER_VOTER))
    recent = judged.filter(created_at__gte=since) if since else judged
    voters = list(
        judged.filter(voter_key__in=recent.values("voter_key"))
        .values("voter_key")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.OUTLIER_MIN_VOTES)
        .values_list("voter_key", flat=True)
    )
    if not voters:
        return []
    history = _pair_history(pool)
    first_votes = (
        judged.filter(voter_key__in=voters)
        .annotate(
            position=Window(RowNumber(), partition_by=F("voter_key"), order_by=[F("created_at").asc(), F("id").asc()])
        )
        .filter(position__lte=settings.OUTLIER_MAX_VOTES)
        .order_by("voter_key", "position")
        .values_list("voter_key", "model_a_id", "model_b_id", "winner")
    )
    by_voter: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for voter_key, model_a, model_b, winner in first_votes:
        by_voter[voter_key].append((model_a, model_b, winner))
    flagged = [
        voter
        for voter, votes in by_voter.items()
        if is_outlier(
            votes,
            history,
            alpha=alpha,
            max_votes=settings.OUTLIER_MAX_VOTES,
            min_pair_history=settings.OUTLIER_MIN_PAIR_HISTORY,
        )
    ]
    if flagged:
        excluded = Vote.objects.filter(pool=pool, voter_key__in=flagged, excluded_reason=ExcludedReason.COUNTED).update(
            excluded_reason=OUTLIER_VOTER
        )
        log.warning("%s: %d voters flagged as outliers, %d of their votes excluded", pool, len(flagged), excluded)
    # A voter the history has moved towards is no longer an outlier: counted again.
    cleared = set(by_voter) - set(flagged)
    if cleared:
        recounted = Vote.objects.filter(pool=pool, voter_key__in=cleared, excluded_reason=OUTLIER_VOTER).update(
            excluded_reason=ExcludedReason.COUNTED
        )
        if recounted:
            log.warning("%s: %d votes of voters no longer flagged counted again", pool, recounted)
    return flagged


def check_recent_voters() -> dict[str, list[str]]:
    """Every pool: the voters who voted since shortly before its last board (all voters when
    there is none yet). Run by the recompute task before the boards."""
    flagged = {}
    for pool in Prompt.Pool.values:
        last = (
            RatingSnapshot.objects.filter(pool=pool)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        since = last - timedelta(seconds=2 * settings.RATINGS_INTERVAL_S) if last else None
        flagged[pool] = exclude_outlier_voters(pool, since=since)
    return flagged
