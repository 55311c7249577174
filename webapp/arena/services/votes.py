"""Casting a vote: one counted vote per battle, replays answered with the same result, a
per-voter and per-IP rate limit, and exclusion reasons instead of deletions."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from webapp.catalog.models import VideoModel

from ..models import Vote, Winner
from . import battles
from .voters import Voter

CHOICES = {"left": Winner.MODEL_A, "right": Winner.MODEL_B, "tie": Winner.TIE, "bothbad": Winner.BOTH_BAD}
# A clip counts as watched when this share of it was played; players report slightly less
# than the duration at the end.
WATCHED_SHARE = 0.9


class VoteError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after


@dataclass(frozen=True)
class VoteOutcome:
    vote: Vote
    created: bool  # False for a replay of a vote already stored


def _watch_time(value, side: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise VoteError("invalid_watch_time", f"watched_{side}_s must be a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0 or seconds > 24 * 3600:
        raise VoteError("invalid_watch_time", f"watched_{side}_s is out of range")
    return seconds


def _within_rate(voter: Voter) -> int | None:
    """None if the vote may go ahead, else seconds to wait. Fixed one-minute windows in the
    shared cache, so the limits hold across every web process."""
    window = int(time.time() // 60)
    checks = [
        (f"vote-rate:v:{voter.key}:{window}", settings.VOTE_RATE_PER_MINUTE),
        (f"vote-rate:ip:{voter.ip_hash}:{window}", settings.VOTE_RATE_PER_IP_PER_MINUTE),
    ]
    checks = [(key, limit) for key, limit in checks if limit > 0]
    if not checks:
        return None
    cache = caches["default"]  # the backend itself: `django.core.cache.cache` is a proxy, never a RedisCache
    if isinstance(cache, RedisCache):
        # Both counters in one round trip: INCR, then give a new key its expiry.
        client = cache._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for key, _ in checks:
            pipe.incr(cache.make_and_validate_key(key))
            pipe.expire(cache.make_and_validate_key(key), 120, nx=True)
        counts = pipe.execute()[::2]
    else:
        counts = []
        for key, _ in checks:
            cache.add(key, 0, timeout=120)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=120)
                counts.append(1)
    if any(count > limit for count, (_, limit) in zip(counts, checks)):
        return 60 - int(time.time()) % 60
    return None


# Everything a vote needs, in one query: the battle, its clips' durations and hidden flags, both
# models (for the reveal), the prompt's category, an existing vote, and whether this voter has
# seen the prompt's named results. Hand-written SQL because this is the hot path: compiling the
# equivalent ORM query cost more CPU than running it (benchmarks/vote_load.py).
_BATTLE_SQL = """
SELECT b.id, b.voter_key, b.pool, p.category, v.id,
       lc.duration_s, lc.hidden, rc.duration_s, rc.hidden,
       lm.id, lm.slug, lm.display_name, lm.is_procedural_demo,
       rm.id, rm.slug, rm.display_name, rm.is_procedural_demo,
       EXISTS(SELECT 1 FROM arena_namedview n WHERE n.prompt_id = b.prompt_id AND n.voter_key = %s)
FROM arena_battle b
JOIN studio_prompt p ON p.id = b.prompt_id
LEFT JOIN arena_vote v ON v.battle_id = b.id
JOIN studio_clip lc ON lc.id = b.left_id
JOIN studio_generationjob lj ON lj.id = lc.job_id
JOIN catalog_videomodel lm ON lm.id = lj.model_id
JOIN studio_clip rc ON rc.id = b.right_id
JOIN studio_generationjob rj ON rj.id = rc.job_id
JOIN catalog_videomodel rm ON rm.id = rj.model_id
WHERE b.public_id = %s
"""
_BATTLE_FIELDS = (
    "id",
    "voter_key",
    "pool",
    "prompt__category",
    "vote__id",
    "left__duration_s",
    "left__hidden",
    "right__duration_s",
    "right__hidden",
    "left__job__model_id",
    "left__job__model__slug",
    "left__job__model__display_name",
    "left__job__model__is_procedural_demo",
    "right__job__model_id",
    "right__job__model__slug",
    "right__job__model__display_name",
    "right__job__model__is_procedural_demo",
    "named",
)


def _battle_row(public_id, voter: Voter) -> dict | None:
    if not isinstance(public_id, str):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_BATTLE_SQL, [voter.key, public_id])
        row = cursor.fetchone()
    return dict(zip(_BATTLE_FIELDS, row)) if row else None


def _model(row: dict, side: str) -> VideoModel:
    prefix = f"{side}__job__model__"
    return VideoModel(
        pk=row[f"{side}__job__model_id"],
        slug=row[prefix + "slug"],
        display_name=row[prefix + "display_name"],
        is_procedural_demo=row[prefix + "is_procedural_demo"],
    )


def _exclusion(row: dict, watched_left: float | None, watched_right: float | None) -> str:
    if row["left__hidden"] or row["right__hidden"]:  # hidden by a moderator after the battle was served
        return "hidden_clip"
    if row["named"]:
        return "saw_named_results"
    if (
        watched_left is None
        or watched_right is None
        or watched_left < WATCHED_SHARE * row["left__duration_s"]
        or watched_right < WATCHED_SHARE * row["right__duration_s"]
    ):
        return "not_watched"
    return ""


def cast_vote(voter: Voter, *, token: str, choice: str, watched_left_s=None, watched_right_s=None) -> VoteOutcome:
    if not isinstance(token, str) or not token:
        raise VoteError("invalid_battle", "A battle token is required.")
    claims = battles.unsign(token)
    row = _battle_row(claims.get("b"), voter)
    if row is None:
        raise VoteError("invalid_battle", "This battle no longer exists.", 404)
    if row["voter_key"] != voter.key or claims.get("v") != voter.key:
        raise VoteError("not_your_battle", "This battle was served to someone else.", 403)
    if row["vote__id"] is not None:  # a double click or a replay: answer again, count once
        return VoteOutcome(_stored(row["vote__id"]), created=False)
    if choice not in CHOICES:
        raise VoteError("invalid_choice", f"choice must be one of {', '.join(CHOICES)}")
    watched_left, watched_right = _watch_time(watched_left_s, "left"), _watch_time(watched_right_s, "right")
    wait = _within_rate(voter)
    if wait is not None:
        raise VoteError(
            "rate_limited",
            f"You are voting faster than this arena allows. Try again in {wait} s.",
            429,
            retry_after=wait,
        )
    vote = Vote(
        battle_id=row["id"],
        model_a=_model(row, "left"),
        model_b=_model(row, "right"),
        winner=CHOICES[choice],
        pool=row["pool"],
        category=row["prompt__category"],
        voter_key=voter.key,
        ip_hash=voter.ip_hash,
        watched_left_s=watched_left,
        watched_right_s=watched_right,
        created_at=timezone.now(),
        excluded_reason=_exclusion(row, watched_left, watched_right),
    )
    try:
        if connection.in_atomic_block:  # a savepoint, so a duplicate does not break the caller's transaction
            with transaction.atomic():
                _insert(vote)
        else:  # one INSERT in autocommit is atomic by itself: no BEGIN/COMMIT round trips
            _insert(vote)
    except IntegrityError:  # the same battle's vote arrived twice at once; the first one counts
        return VoteOutcome(_stored(row["id"], by_battle=True), created=False)
    return VoteOutcome(vote, created=True)


_INSERT_FIELDS = [f for f in Vote._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(Vote._meta.db_table)} ({', '.join(quote(f.column) for f in _INSERT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) RETURNING {quote(Vote._meta.pk.column)}"
    )


def _insert(vote: Vote) -> None:
    """``vote.save()`` for a new vote, without the ORM's per-call SQL compilation (a third of the
    endpoint's CPU in benchmarks/vote_load.py). Columns and conversions come from the model, so
    a new field is inserted too. Vote has no save signals to skip."""
    params = [f.get_db_prep_save(getattr(vote, f.attname), connection) for f in _INSERT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), params)
        vote.pk = cursor.fetchone()[0]
    vote._state.adding, vote._state.db = False, connection.alias


def _stored(key: int, *, by_battle: bool = False) -> Vote:
    votes = Vote.objects.select_related("model_a", "model_b")
    return votes.get(battle_id=key) if by_battle else votes.get(pk=key)
