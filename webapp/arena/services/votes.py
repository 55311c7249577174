"""Casting a vote: one counted vote per battle, replays answered with the same result, a
per-voter and per-IP rate limit, and exclusion reasons instead of deletions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from webapp.catalog.models import VideoModel
from webapp.core import ratelimit
from webapp.core.errors import ScreentestError

from .. import sql
from ..models import ExcludedReason, Vote, Winner
from . import battles
from .voters import Voter

CHOICES = {"left": Winner.MODEL_A, "right": Winner.MODEL_B, "tie": Winner.TIE, "bothbad": Winner.BOTH_BAD}
# A clip counts as watched when this share of it was played; players report slightly less
# than the duration at the end.
WATCHED_SHARE = 0.9


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


def _within_rate(voter: Voter) -> int | None:
    """None if the vote may go ahead, else seconds to wait (per voter and per address)."""
    return ratelimit.hit(
        ratelimit.Limit(f"vote:v:{voter.key}", settings.VOTE_RATE_PER_MINUTE),
        ratelimit.Limit(f"vote:ip:{voter.ip_hash}", settings.VOTE_RATE_PER_IP_PER_MINUTE),
    )


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
        return ExcludedReason.HIDDEN_CLIP
    if row["named"]:
        return ExcludedReason.SAW_NAMED_RESULTS
    if (
        watched_left is None
        or watched_right is None
        or watched_left < WATCHED_SHARE * row["left__duration_s"]
        or watched_right < WATCHED_SHARE * row["right__duration_s"]
    ):
        return ExcludedReason.NOT_WATCHED
    return ExcludedReason.COUNTED


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
    if choice not in CHOICES:
        raise VoteError("invalid_choice", f"choice must be one of {', '.join(CHOICES)}")
    watched_left, watched_right = _watch_time(watched_left_s, "left"), _watch_time(watched_right_s, "right")
    wait = _within_rate(voter)
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
        created_at=timezone.now(),
        excluded_reason=_exclusion(row, watched_left, watched_right),
    )
    try:
        if connection.in_atomic_block:  # a savepoint, so a duplicate does not break the caller's transaction
            with transaction.atomic():
                sql.insert_vote(vote)
        else:  # one INSERT in autocommit is atomic by itself: no BEGIN/COMMIT round trips
            sql.insert_vote(vote)
    except IntegrityError:  # the same battle's vote arrived twice at once; the first one counts
        return VoteOutcome(_stored(row["id"], by_battle=True), created=False)
    return VoteOutcome(vote, created=True)


def _stored(key: int, *, by_battle: bool = False) -> Vote:
    votes = Vote.objects.select_related("model_a", "model_b")
    return votes.get(battle_id=key) if by_battle else votes.get(pk=key)
