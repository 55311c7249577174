"""Leaderboards: the database aggregates counted votes (GROUP BY), workers/ratings/ does the
math, and the result is stored as a RatingSnapshot so no page ever computes ratings inline."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from webapp.catalog.models import VideoModel
from webapp.studio.models import Prompt
from webapp.studio.services import measured
from workers import ratings

from ..models import RatingSnapshot, Vote
from . import analysis, live_elo, tallies

log = logging.getLogger(__name__)

ALL_CATEGORIES = ""


def counted_votes(pool: str, category: str = ALL_CATEGORIES):
    votes = Vote.objects.counted().filter(pool=pool, model_a__in_arena=True, model_b__in_arena=True)
    return votes.filter(category=category) if category else votes


def aggregate(pool: str, category: str = ALL_CATEGORIES) -> ratings.PairCounts:
    """The counted votes as BT input, summed from the trigger-kept tallies (a few hundred
    rows whatever the number of votes; services/tallies.py checks them against the votes)."""
    return ratings.from_rows(tallies.counted_rows(pool, category))


def recompute(pool: str, category: str = ALL_CATEGORIES, *, rounds: int | None = None) -> RatingSnapshot:
    started = time.perf_counter()
    rounds = rounds or settings.RATING_BOOTSTRAP_ROUNDS
    counts = aggregate(pool, category)
    board = ratings.leaderboard(
        counts,
        rounds=rounds,
        min_votes=settings.LEADERBOARD_MIN_VOTES,
        preliminary_below=settings.LEADERBOARD_PRELIMINARY_BELOW,
    )
    previous = latest(pool, category)
    elo_by_id, elo_state = live_elo.compute(counted_votes(pool, category), previous.elo_state if previous else None)
    models = {m.slug: m for m in VideoModel.objects.filter(slug__in=[r.model for r in board])}
    elo = {slug: elo_by_id[m.pk] for slug, m in models.items() if m.pk in elo_by_id}
    facts = {m.model.slug: m.summary() for m in measured.measure_all(models.values()).values() if m.clips}
    rows = []
    for r in board:
        model = models[r.model]
        rows.append(
            {
                "model": r.model,
                "name": model.label,
                "vendor": model.vendor,
                "procedural_demo": model.is_procedural_demo,
                "score": round(r.score, 1),
                "lower": round(r.lower, 1),
                "upper": round(r.upper, 1),
                "rank_ub": r.rank_ub,
                "votes": r.votes,
                "wins": r.wins,
                "losses": r.losses,
                "ties": r.ties,
                "win_rate": round(r.win_rate, 4),
                "preliminary": r.preliminary,
                "elo_live": round(elo.get(r.model, 1000.0), 1),
                "facts": facts.get(r.model, {}),
            }
        )
    listed = {r.model for r in board}
    pairwise = ratings.pairwise_matrices(counts)
    keep = [i for i, m in enumerate(pairwise["models"]) if m in listed]
    pairwise = {
        key: (
            [pairwise[key][i] for i in keep] if key == "models" else [[pairwise[key][i][j] for j in keep] for i in keep]
        )
        for key in pairwise
    }
    analyses = analysis.compute(counted_votes(pool, category), rows)  # before the timing below stops
    snapshot = RatingSnapshot.objects.create(
        pool=pool,
        category=category,
        votes_counted=int(counts.count.sum()) if len(counts.count) else 0,
        bootstrap_rounds=rounds,
        compute_seconds=round(time.perf_counter() - started, 3),
        rows=rows,
        pairwise=pairwise,
        elo_state=elo_state,
        analysis=analyses,
    )
    log.info(
        "ratings %s/%s: %d votes, %d models listed, %.2f s",
        pool,
        category or "all",
        snapshot.votes_counted,
        len(rows),
        snapshot.compute_seconds,
    )
    return snapshot


def recompute_all() -> int:
    """Every pool, overall and per category that has votes."""
    made = 0
    for pool in Prompt.Pool.values:
        recompute(pool)
        made += 1
        for category in tallies.categories(pool):
            recompute(pool, category)
            made += 1
    return made


def latest(pool: str, category: str = ALL_CATEGORIES) -> RatingSnapshot | None:
    return RatingSnapshot.objects.filter(pool=pool, category=category).order_by("-created_at").first()
