"""Casting a vote: one vote per battle, replays answered with the same result, a per-voter and
per-IP rate limit, and exclusion reasons instead of deletions.

A vote counts only when it could be honest: both clips visible, the prompt not seen with model
names, the clips fetched at least their duration before the vote (the server's clock; client
watch times are stored as extra data), a logged-in voter where ARENA_REQUIRE_LOGIN asks for
one, and its address under ARENA_COUNTED_VOTES_PER_IP_PER_HOUR. Only the battle the voter
holds takes a vote: a skipped one refuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from webapp.catalog.models import VideoModel
from webapp.core import ratelimit
from webapp.core.errors import ScreentestError
from webapp.studio.models import Prompt

from .. import sql
from ..models import BattleState, ExcludedReason, Vote, Winner
from . import battles
from .voters import Voter

CHOICES = {"left": Winner.MODEL_A, "right": Winner.MODEL_B, "tie": Winner.TIE, "bothbad": Winner.BOTH_BAD}


class VoteError(ScreentestError):
    """A vote that cannot be taken as sent."""


@dataclass(frozen=True)
class VoteOutcome:
    vote: Vote
    created: bool  # False for a replay of a vote already stored


def _watch_time(value, side: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond any float
        raise VoteError("invalid_watch_time", f"watched_{side}_s must be a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0 or seconds > 24 * 3600:
        raise VoteError("invalid_watch_time", f"watched_{side}_s is out of range")
    return seconds


def _model(row: dict, side: str) -> VideoModel:
    prefix = f"{side}__job__model__"
    return VideoModel(
        pk=row[f"{side}__job__model_id"],
        slug=row[prefix + "slug"],
        display_name=row[prefix + "display_name"],
        is_procedural_demo=row[prefix + "is_procedural_demo"],
    )


def _watched_through(row: dict, now: datetime) -> bool:
    """Both clips were fetched, and since the later first fetch at least their duration has
    passed (less ARENA_WATCH_TOLERANCE_S): the server's own clock, not what a client reports."""
    fetched = (row["left_fetched_at"], row["right_fetched_at"])
    if None in fetched or not row["duration_s"]:
        return False
    elapsed = (now - max(fetched)).total_seconds()
    return elapsed >= row["duration_s"] - settings.ARENA_WATCH_TOLERANCE_S


def _exclusion(row: dict, voter: Voter, now: datetime) -> str:
    """Why this vote must not count, or "" when it could be honest (the per-address cap of
    counted votes is applied with the rate limits, in _rate_limits)."""
    if row["left__hidden"] or row["right__hidden"]:  # hidden by a moderator after the battle was served
        return ExcludedReason.HIDDEN_CLIP
    if row["named"] or row["named_when_served"]:
        return ExcludedReason.SAW_NAMED_RESULTS
    if not _watched_through(row, now):
        return ExcludedReason.NOT_WATCHED
    if settings.ARENA_REQUIRE_LOGIN and row["pool"] == Prompt.Pool.OFFICIAL and not voter.logged_in:
        return ExcludedReason.LOGIN_REQUIRED
    return ExcludedReason.COUNTED


def _rate_limits(voter: Voter, *, would_count: bool) -> tuple[int | None, bool]:
    """(seconds to wait if the voter or their address votes too fast, whether the address has
    used up its counted votes this hour), in one round trip. Only a vote that would otherwise
    count uses up the address's counted votes."""
    limits = [
        ratelimit.Limit(f"vote:v:{voter.key}", settings.VOTE_RATE_PER_MINUTE),
        ratelimit.Limit(f"vote:ip:{voter.ip_hash}", settings.VOTE_RATE_PER_IP_PER_MINUTE),
    ]
    if would_count:
        limits.append(
            ratelimit.Limit(f"arena-counted:ip:{voter.ip_hash}", settings.ARENA_COUNTED_VOTES_PER_IP_PER_HOUR, 3600)
        )
    waits = ratelimit.hit_each(*limits)
    wait = waits[0] if waits[0] is not None else waits[1]
    return wait, would_count and waits[2] is not None


def cast_vote(
    voter: Voter, *, token: Any, choice: Any, watched_left_s: Any = None, watched_right_s: Any = None
) -> VoteOutcome:
    """Take one vote as received (token, choice and watch times are untrusted values)."""
    if not isinstance(token, str) or not token:
        raise VoteError("invalid_battle", "A battle token is required.")
    claims = battles.unsign(token)
    public_id = claims.get("b")
    row = sql.battle_for_vote(public_id, voter.key) if isinstance(public_id, str) else None
    if row is None:
        raise VoteError("invalid_battle", "This battle no longer exists.", status=404)
    if row["voter_key"] != voter.key or claims.get("v") != voter.key:
        raise VoteError("not_your_battle", "This battle was served to someone else.", status=403)
    if row["vote__id"] is not None:  # a double click or a replay: answer again, count once
        return VoteOutcome(_stored(row["vote__id"]), created=False)
    if row["state"] == BattleState.SKIPPED:
        raise VoteError("battle_skipped", "You moved on to another battle; this one no longer takes votes.", status=410)
    if row["state"] != BattleState.READY:
        raise VoteError("battle_not_ready", "This battle's clips are not ready yet.", status=409)
    if choice not in CHOICES:
        raise VoteError("invalid_choice", f"choice must be one of {', '.join(CHOICES)}")
    watched_left, watched_right = _watch_time(watched_left_s, "left"), _watch_time(watched_right_s, "right")
    now = timezone.now()
    excluded = _exclusion(row, voter, now)
    wait, over_cap = _rate_limits(voter, would_count=excluded == ExcludedReason.COUNTED)
    if wait is not None:
        raise VoteError(
            "rate_limited",
            f"You are voting faster than this arena allows. Try again in {wait} s.",
            status=429,
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
        created_at=now,
        excluded_reason=ExcludedReason.ADDRESS_OVER_CAP if over_cap else excluded,
    )
    try:
        if connection.in_atomic_block:  # a savepoint, so a duplicate does not break the caller's transaction
            with transaction.atomic():
                sql.insert_vote(vote, battle_state=BattleState.VOTED)
        else:  # one statement on PostgreSQL: no BEGIN/COMMIT round trips
            sql.insert_vote(vote, battle_state=BattleState.VOTED)
    except IntegrityError:  # the same battle's vote arrived twice at once; the first one counts
        return VoteOutcome(_stored(row["id"], by_battle=True), created=False)
    return VoteOutcome(vote, created=True)


def _stored(key: int, *, by_battle: bool = False) -> Vote:
    votes = Vote.objects.select_related("model_a", "model_b")
    return votes.get(battle_id=key) if by_battle else votes.get(pk=key)
