"""Which battle a voter judges next, and its life: prepared, served, voted or skipped.

The model pair comes from workers/ratings/sampling.py (votes go where they inform), then a
prompt with clips from both models that this voter has not judged for this pair, whose clips
were never revealed to them, preferring prompts they have not seen with names (when only such
prompts are left they are served, and the page says the vote is kept but not counted). Left and
right are decided here, with the server's randomness; the client receives an opaque battle id
inside a signed token and media URLs that name nothing.

A voter holds at most one served battle: asking for the next one records a skip and voids the
old token. Each battle gets renditions of its own (renditions.py), made by a worker. The next
battle is chosen and prepared by the arena worker as soon as the current one is served, so it
has the whole watching time to render, and neither request waits for the choosing (a few
queries) nor the vote pays for sending it. Since the held battle's clips will be revealed by
its vote, the prepared one never contains them, and a prepared battle is checked again when
served: one with a clip whose model the voter has seen since is dropped.
"""

from __future__ import annotations

import secrets

import numpy as np
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from webapp.catalog.models import VideoModel
from webapp.core import ratelimit
from webapp.core.errors import ScreentestError
from webapp.core.tasks import TaskRoute, send_on_commit
from webapp.studio.models import Clip, JobState, Prompt
from workers.ratings import sampling

from ..models import LIVE_BATTLE_STATES, Battle, BattleState, NamedView, RatingSnapshot
from . import renditions, tallies
from .voters import Voter

PREPARE_NEXT = TaskRoute("arena.prepare_next", queue="arena")
TOKEN_SALT = "screentest.battle"
CANDIDATES_PER_PAIR = 64
HOUR_S = 3600


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


def arena_clips(pool: str) -> QuerySet[Clip]:
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


def _clips_of(battles: QuerySet[Battle]) -> QuerySet:
    return Clip.objects.filter(Q(pk__in=battles.values("left_id")) | Q(pk__in=battles.values("right_id"))).values("pk")


def revealed_clips(voter: Voter) -> QuerySet:
    """Clip ids whose model this voter has been shown (their voted battles)."""
    return _clips_of(Battle.objects.filter(voter_key=voter.key, state=BattleState.VOTED))


def _held_clips(voter: Voter) -> QuerySet:
    """Clip ids of the battles this voter holds: their models are revealed once voted on."""
    return _clips_of(Battle.objects.filter(voter_key=voter.key, state__in=LIVE_BATTLE_STATES, served_at__isnull=False))


def _clip_pair(
    voter: Voter, pool: str, model_a: int, model_b: int, *, allow_named: bool
) -> tuple[int, int, int, bool] | None:
    """(clip of model_a, clip of model_b, prompt id, seen with names) for a battle, or None."""
    named = NamedView.objects.filter(voter_key=voter.key).values("prompt_id")
    clips = arena_clips(pool).exclude(pk__in=revealed_clips(voter)).exclude(pk__in=_held_clips(voter))
    partner = clips.filter(job__prompt_id=OuterRef("job__prompt_id"), job__model_id=model_b).values("id")[:1]
    mine = clips.filter(job__model_id=model_a)
    if not allow_named:
        mine = mine.exclude(job__prompt_id__in=named)
    candidates = list(
        mine.annotate(partner=Subquery(partner))
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
    named_prompts = set(named.values_list("prompt_id", flat=True)) if allow_named else set()
    for a, b, prompt_id in candidates:
        if pair_key(a, b) not in seen:
            return a, b, prompt_id, prompt_id in named_prompts
    return None


def _new_battle(voter: Voter, pool: str, rng: np.random.Generator) -> Battle | None:
    """Choose and store a new battle (preparing; its renditions are requested on commit), or
    None when this voter has judged every pair there is."""
    model_ids = sorted(set(arena_clips(pool).values_list("job__model_id", flat=True)))
    if len(model_ids) < 2:
        return None
    states, pair_counts = _model_states(pool, model_ids)
    for allow_named in (False, True):  # prompts seen with names only when nothing else is left
        exhausted: set[frozenset[str]] = set()
        while True:
            pair = sampling.choose_pair(states, pair_counts, rng, exclude=exhausted)
            if pair is None:
                break
            model_a, model_b = (int(key) for key in pair)
            found = _clip_pair(voter, pool, model_a, model_b, allow_named=allow_named)
            if found is None:
                exhausted.add(frozenset(pair))
                continue
            clip_a, clip_b, prompt_id, named = found
            left, right = (clip_a, clip_b) if secrets.randbits(1) else (clip_b, clip_a)
            try:
                with transaction.atomic():
                    battle = Battle.objects.create(
                        prompt_id=prompt_id,
                        left_id=left,
                        right_id=right,
                        pool=pool,
                        pair_key=pair_key(left, right),
                        voter_key=voter.key,
                        named=named,
                    )
                    renditions.request(battle)
                    return battle
            except IntegrityError:  # the same voter got this pair in a parallel request
                continue
    return None


def _within_battle_limit(voter: Voter) -> None:
    wait = ratelimit.hit(
        ratelimit.Limit(f"arena-battles:ip:{voter.ip_hash}", settings.ARENA_BATTLES_PER_IP_PER_HOUR, HOUR_S)
    )
    if wait is not None:
        raise ScreentestError(
            "too_many_battles",
            "Your network has asked for more battles this hour than this arena allows. Try again later.",
            status=429,
            retry_after=wait,
        )


def _skip_outstanding(voter: Voter) -> int:
    """The voter's served, unvoted battles become skipped: their tokens stop working."""
    return Battle.objects.filter(voter_key=voter.key, state__in=LIVE_BATTLE_STATES, served_at__isnull=False).update(
        state=BattleState.SKIPPED, finished_at=timezone.now()
    )


def _prepared(voter: Voter, pool: str) -> Battle | None:
    """A battle prepared for this voter and not served yet, if it is still valid."""
    for battle in Battle.objects.filter(
        voter_key=voter.key, pool=pool, state__in=LIVE_BATTLE_STATES, served_at__isnull=True
    ).select_related("left", "right"):
        if battle.left.hidden or battle.right.hidden:  # a moderator hid one meanwhile
            Battle.objects.filter(pk=battle.pk).update(state=BattleState.FAILED, error_code="clip_hidden")
            continue
        if revealed_clips(voter).filter(pk__in=(battle.left_id, battle.right_id)).exists():
            # Prepared before the voter saw one of its models (a battle voted since): not blind.
            Battle.objects.filter(pk=battle.pk).update(state=BattleState.FAILED, error_code="clip_revealed")
            continue
        if not battle.named and NamedView.objects.filter(voter_key=voter.key, prompt_id=battle.prompt_id).exists():
            battle.named = True
        return battle
    return None


def next_battle(voter: Voter, *, pool: str = Prompt.Pool.OFFICIAL, rng: np.random.Generator | None = None):
    """Serve this voter's next battle (skipping the one they hold), or None when there is
    nothing left they have not judged. The battle may still be preparing its renditions."""
    rng = rng or np.random.default_rng(secrets.randbits(64))
    _skip_outstanding(voter)
    battle = _prepared(voter, pool)
    if battle is None:
        _within_battle_limit(voter)
        battle = _new_battle(voter, pool, rng)
        if battle is None:
            return None
    battle.served_at = timezone.now()
    Battle.objects.filter(pk=battle.pk).update(served_at=battle.served_at, named=battle.named)
    send_on_commit(PREPARE_NEXT, voter.key, voter.ip_hash, voter.logged_in, pool)
    return battle


def prepare_next(voter: Voter, pool: str) -> Battle | None:
    """Choose the voter's next battle and have it rendered, unless one is waiting already."""
    if _prepared(voter, pool) is not None:
        return None
    try:
        _within_battle_limit(voter)
    except ScreentestError:
        return None  # the next request will say so
    return _new_battle(voter, pool, np.random.default_rng(secrets.randbits(64)))


def owned(public_id: str, voter: Voter | None) -> Battle | None:
    """The battle with this id if it was served to this voter."""
    if voter is None or not isinstance(public_id, str):
        return None
    return (
        Battle.objects.select_related("prompt")
        .filter(public_id=public_id, voter_key=voter.key, served_at__isnull=False)
        .first()
    )
