"""Votes on clips a moderator hid: kept, not counted, and counted again when the clip is back.

The moderation app decides; these functions apply the decision to the arena's votes (in the
caller's transaction). Every board refresh runs `reconcile_hidden_clips` again, which closes
the race with a vote cast while a decision was being made (a vote reads the clips' state,
then inserts).
"""

from __future__ import annotations

import logging

from django.db.models import Q

from webapp.studio.models import Clip

from ..models import ExcludedReason, Vote

log = logging.getLogger(__name__)

HIDDEN = ExcludedReason.HIDDEN_CLIP


def vote_counts_on(clip: Clip) -> dict[str, int]:
    """For an audit record: counted votes on battles with this clip, and those set aside for it."""
    votes = Vote.objects.on_clip(clip.pk)
    return {
        "counted_votes": votes.filter(excluded_reason=ExcludedReason.COUNTED).count(),
        "votes_excluded_hidden_clip": votes.filter(excluded_reason=HIDDEN).count(),
    }


def exclude_votes_on(clip: Clip) -> int:
    """The clip was hidden: its battles' counted votes stop counting. Returns how many."""
    return Vote.objects.on_clip(clip.pk).filter(excluded_reason=ExcludedReason.COUNTED).update(excluded_reason=HIDDEN)


def recount_votes_on(clip: Clip) -> int:
    """The clip was restored: votes set aside only because of a hidden clip count again, where
    the battle's other clip is visible too. Returns how many."""
    return (
        Vote.objects.on_clip(clip.pk)
        .filter(excluded_reason=HIDDEN)
        .exclude(Q(battle__left__hidden=True) | Q(battle__right__hidden=True))
        .update(excluded_reason=ExcludedReason.COUNTED)
    )


def reconcile_hidden_clips() -> dict[str, int]:
    """Apply hide/restore again to every arena vote: counted votes on a battle with a hidden
    clip are excluded, and votes excluded only for that reason are counted again once both
    clips are visible. Imported votes (no battle) are left alone."""
    hidden = Clip.objects.filter(hidden=True).values("pk")
    excluded = 0
    for side in ("battle__left_id__in", "battle__right_id__in"):  # two index-friendly updates, not one OR
        excluded += Vote.objects.filter(**{side: hidden}, excluded_reason=ExcludedReason.COUNTED).update(
            excluded_reason=HIDDEN
        )
    recounted = (
        Vote.objects.filter(excluded_reason=HIDDEN, battle__isnull=False)
        .exclude(battle__left_id__in=hidden)
        .exclude(battle__right_id__in=hidden)
        .update(excluded_reason=ExcludedReason.COUNTED)
    )
    if excluded or recounted:
        log.warning("reconciled votes with hidden clips: %d excluded, %d counted again", excluded, recounted)
    return {"excluded": excluded, "recounted": recounted}
