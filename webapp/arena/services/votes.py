"""Casting a vote: one counted vote per battle, replays answered with the same result, a
per-voter and per-IP rate limit, and exclusion reasons instead of deletions."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Battle, NamedView, Vote, Winner
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
    shared cache, so the limit holds across every web process."""
    window = int(time.time() // 60)
    for key, limit in ((f"vote-rate:v:{voter.key}:{window}", settings.VOTE_RATE_PER_MINUTE),
                       (f"vote-rate:ip:{voter.ip_hash}:{window}", settings.VOTE_RATE_PER_IP_PER_MINUTE)):
        if limit <= 0:
            continue
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=120)
            count = 1
        if count > limit:
            return 60 - int(time.time()) % 60
    return None


def _exclusion(battle: Battle, voter: Voter, watched_left: float | None, watched_right: float | None) -> str:
    if battle.left.hidden or battle.right.hidden:  # hidden by a moderator after the battle was served
        return "hidden_clip"
    if NamedView.objects.filter(voter_key=voter.key, prompt_id=battle.prompt_id).exists():
        return "saw_named_results"
    left, right = battle.left, battle.right
    if (watched_left is None or watched_right is None
            or watched_left < WATCHED_SHARE * left.duration_s or watched_right < WATCHED_SHARE * right.duration_s):
        return "not_watched"
    return ""


def cast_vote(voter: Voter, *, token: str, choice: str, watched_left_s=None, watched_right_s=None) -> VoteOutcome:
    if not isinstance(token, str) or not token:
        raise VoteError("invalid_battle", "A battle token is required.")
    claims = battles.unsign(token)
    battle = (Battle.objects.select_related("left__job", "right__job", "prompt")
              .filter(public_id=claims.get("b")).first())
    if battle is None:
        raise VoteError("invalid_battle", "This battle no longer exists.", 404)
    if battle.voter_key != voter.key or claims.get("v") != voter.key:
        raise VoteError("not_your_battle", "This battle was served to someone else.", 403)
    existing = Vote.objects.filter(battle=battle).first()
    if existing:  # a double click or a replay: answer again, count once
        return VoteOutcome(existing, created=False)
    if choice not in CHOICES:
        raise VoteError("invalid_choice", f"choice must be one of {', '.join(CHOICES)}")
    watched_left, watched_right = _watch_time(watched_left_s, "left"), _watch_time(watched_right_s, "right")
    wait = _within_rate(voter)
    if wait is not None:
        raise VoteError("rate_limited", f"You are voting faster than this arena allows. Try again in {wait} s.",
                        429, retry_after=wait)
    vote = Vote(battle=battle, model_a_id=battle.left.job.model_id, model_b_id=battle.right.job.model_id,
                winner=CHOICES[choice], pool=battle.pool, category=battle.prompt.category,
                voter_key=voter.key, ip_hash=voter.ip_hash, watched_left_s=watched_left,
                watched_right_s=watched_right, created_at=timezone.now(),
                excluded_reason=_exclusion(battle, voter, watched_left, watched_right))
    try:
        with transaction.atomic():
            vote.save()
    except IntegrityError:  # the same battle's vote arrived twice at once; the first one counts
        return VoteOutcome(Vote.objects.get(battle=battle), created=False)
    return VoteOutcome(vote, created=True)
