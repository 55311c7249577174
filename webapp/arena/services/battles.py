"""Serving blind battles: which two clips a voter sees next.

The model pair comes from workers/ratings/sampling.py (votes go where they inform), then a prompt that
has clips from both models and that this voter has neither judged for this pair nor seen with
names. Left and right are decided here, with the server's randomness; the client receives an
opaque battle id inside a signed token and media URLs that name nothing.
"""

from __future__ import annotations

import secrets

import numpy as np
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from webapp.catalog.models import VideoModel
from webapp.core.errors import ScreentestError
from webapp.studio.models import Clip, JobState, Prompt
from workers.ratings import sampling

from ..models import Battle, NamedView, RatingSnapshot
from . import tallies
from .voters import Voter

TOKEN_SALT = "screentest.battle"
CANDIDATES_PER_PAIR = 64


class BattleTokenError(ScreentestError):
    """A battle token that is missing, forged or expired (410)."""


def sign(battle: Battle) -> str:
    return signing.dumps({"b": battle.public_id, "v": battle.voter_key}, salt=TOKEN_SALT, compress=True)


def unsign(token: str) -> dict:
    try:
        return signing.loads(token, salt=TOKEN_SALT, max_age=settings.BATTLE_MAX_AGE_S)
    except signing.SignatureExpired:
        raise BattleTokenError(
            "battle_expired", "This battle has expired; load a new one.", status=410, field="token"
        ) from None
    except (signing.BadSignature, TypeError, ValueError):
        raise BattleTokenError("invalid_battle", "This battle token is not valid.", field="token") from None


def pair_key(clip_a_id: int, clip_b_id: int) -> str:
    low, high = sorted((clip_a_id, clip_b_id))
    return f"{low}-{high}"


def arena_clips(pool: str):
    """Clips that may appear in battles: finished, from models shown in the arena, not hidden
    by a moderator, of a prompt the policy or a moderator allowed."""
    return Clip.objects.public().filter(
        job__state=JobState.SUCCEEDED, job__prompt__pool=pool, job__model__in_arena=True, job__model__enabled=True
    )


def _model_states(pool: str, model_ids: list[int]) -> tuple[list[sampling.ModelState], dict]:
    snapshot = RatingSnapshot.objects.filter(pool=pool, category="").order_by("-created_at").first()
    by_slug = {row["model"]: row for row in (snapshot.rows if snapshot else [])}
    slugs = dict(VideoModel.objects.filter(pk__in=model_ids).values_list("pk", "slug"))
    states = []
    for model_id in model_ids:
        row = by_slug.get(slugs[model_id])
        states.append(
            sampling.ModelState(
                key=str(model_id),
                score=row and row["score"],
                lower=row and row["lower"],
                upper=row and row["upper"],
                battles=row["votes"] if row else 0,
                is_new=not row or row.get("preliminary", False),
            )
        )
    # Live, not the snapshot's: the sampler's damping is the feedback between two snapshots.
    pair_counts = {frozenset(str(m) for m in pair): n for pair, n in tallies.pair_counts(pool).items()}
    return states, pair_counts


def _unseen_clip_pair(voter: Voter, pool: str, model_a: int, model_b: int) -> tuple[int, int, int] | None:
    named = NamedView.objects.filter(voter_key=voter.key).values("prompt_id")
    partner = (
        arena_clips(pool).filter(job__prompt_id=OuterRef("job__prompt_id"), job__model_id=model_b).values("id")[:1]
    )
    candidates = list(
        arena_clips(pool)
        .filter(job__model_id=model_a)
        .exclude(job__prompt_id__in=named)
        .annotate(partner=Subquery(partner))
        .filter(partner__isnull=False)
        .order_by("?")
        .values_list("id", "partner", "job__prompt_id")[:CANDIDATES_PER_PAIR]
    )
    if not candidates:
        return None
    seen = set(
        Battle.objects.filter(voter_key=voter.key, pair_key__in=[pair_key(a, b) for a, b, _ in candidates]).values_list(
            "pair_key", flat=True
        )
    )
    for a, b, prompt_id in candidates:
        if pair_key(a, b) not in seen:
            return a, b, prompt_id
    return None


def next_battle(
    voter: Voter, *, pool: str = Prompt.Pool.OFFICIAL, rng: np.random.Generator | None = None
) -> Battle | None:
    """A fresh battle for this voter, or None when there is nothing left they have not judged."""
    rng = rng or np.random.default_rng(secrets.randbits(64))
    model_ids = sorted(set(arena_clips(pool).values_list("job__model_id", flat=True)))
    if len(model_ids) < 2:
        return None
    states, pair_counts = _model_states(pool, model_ids)
    exhausted: set[frozenset[str]] = set()
    while True:
        pair = sampling.choose_pair(states, pair_counts, rng, exclude=exhausted)
        if pair is None:
            return None
        model_a, model_b = (int(key) for key in pair)
        found = _unseen_clip_pair(voter, pool, model_a, model_b)
        if found is None:
            exhausted.add(frozenset(pair))
            continue
        clip_a, clip_b, prompt_id = found
        left, right = (clip_a, clip_b) if secrets.randbits(1) else (clip_b, clip_a)
        try:
            with transaction.atomic():
                return Battle.objects.create(
                    prompt_id=prompt_id,
                    left_id=left,
                    right_id=right,
                    pool=pool,
                    pair_key=pair_key(left, right),
                    voter_key=voter.key,
                )
        except IntegrityError:  # the same voter got this pair in a parallel request
            continue
