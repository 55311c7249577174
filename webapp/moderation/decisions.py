"""Moderators' decisions and their effects. Views, the admin and bulk actions call these.

Each decision locks its target, checks the state it expects, changes it, resolves the
target's open reports and writes one audit entry, all in one transaction; side effects
(enqueueing jobs, deleting files, recomputing the board) run on commit.

- approve a held prompt: its jobs go from HELD to QUEUED and are sent to the workers.
- reject a prompt: nothing more is generated (held and queued jobs cancelled), its clips are
  hidden and their files (renditions, posters, originals) deleted.
- hide a clip: it leaves the gallery, the API and the battle pool; battles with it are no
  longer served; counted votes on battles with it get excluded_reason "hidden_clip"; the
  board is recomputed.
- restore a clip: the reverse; only votes excluded for "hidden_clip" (and whose other clip is
  not hidden) count again.
- approve a reported clip: it stays, its reports are resolved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from webapp.arena.services import exclusions, refresh
from webapp.core.errors import ScreentestError
from webapp.core.storage import delete_stored
from webapp.policy.states import ModerationState
from webapp.studio.models import Clip, GenerationJob, Prompt
from webapp.studio.services import jobs
from webapp.studio.signals import prompt_rejected

from . import audit
from .models import AuditEntry, Report

log = logging.getLogger(__name__)

MIN_REASON_CHARS = 3
# A vote being cast while a moderator hides or restores one of its clips can commit with the
# state it read just before; the board refresh re-applies the decision after this delay.
RECONCILE_DELAY_S = 5


class DecisionError(ScreentestError):
    """A decision that cannot be made (no reason given, wrong state, unknown target)."""


@dataclass(frozen=True)
class Outcome:
    target_kind: str
    target_id: str
    action: str
    entry: AuditEntry


def _reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if len(reason) < MIN_REASON_CHARS:
        raise DecisionError("reason_required", "Give a reason (a few words) for the decision.")
    return reason[:1000]


def _resolve_reports(**target) -> int:
    return Report.objects.filter(resolved_at__isnull=True, **target).update(resolved_at=timezone.now())


def _prompt_state(prompt: Prompt) -> dict:
    return {
        "moderation": prompt.moderation,
        "jobs": dict(GenerationJob.objects.filter(prompt=prompt).values_list("model__slug", "state")),
    }


def _clip_state(clip: Clip) -> dict:
    return {"hidden": clip.hidden, **exclusions.vote_counts_on(clip)}


def _locked_prompt(public_id: str) -> Prompt:
    prompt = Prompt.objects.select_for_update().filter(public_id=public_id).first()
    if prompt is None:
        raise DecisionError("not_found", "No prompt has that id.")
    return prompt


def _locked_clip(public_id: str) -> Clip:
    clip = (
        Clip.objects.select_for_update(of=("self",)).select_related("job__prompt").filter(public_id=public_id).first()
    )
    if clip is None:
        raise DecisionError("not_found", "No clip has that id.")
    return clip


# --- prompts -------------------------------------------------------------------------------------


def approve_prompt(public_id: str, *, actor, reason: str) -> Outcome:
    reason = _reason(reason)
    with transaction.atomic():
        prompt = _locked_prompt(public_id)
        if prompt.moderation == ModerationState.REJECTED:
            raise DecisionError("already_rejected", "This prompt was rejected; its files are gone.")
        before = _prompt_state(prompt)
        Prompt.objects.filter(pk=prompt.pk).update(moderation=ModerationState.ALLOWED)
        prompt.moderation = ModerationState.ALLOWED
        jobs.release_held(prompt)
        _resolve_reports(prompt=prompt, clip__isnull=True)
        entry = audit.record(
            AuditEntry.Action.APPROVE,
            AuditEntry.TargetKind.PROMPT,
            public_id,
            actor=actor,
            reason=reason,
            before=before,
            after=_prompt_state(prompt),
        )
    return Outcome("prompt", public_id, "approve", entry)


def reject_prompt(public_id: str, *, actor, reason: str) -> Outcome:
    reason = _reason(reason)
    with transaction.atomic():
        prompt = _locked_prompt(public_id)
        if prompt.moderation == ModerationState.REJECTED:
            raise DecisionError("already_rejected", "This prompt is already rejected.")
        before = _prompt_state(prompt)
        jobs.cancel_unstarted(prompt, code="prompt_rejected", message="The prompt was rejected by a moderator.")
        Prompt.objects.filter(pk=prompt.pk).update(moderation=ModerationState.REJECTED)
        prompt.moderation = ModerationState.REJECTED
        files: list[str | None] = []
        clips = list(Clip.objects.select_for_update().filter(job__prompt=prompt))
        for clip in clips:
            if not clip.hidden:
                _hide(clip)
            files += [clip.web.name, clip.poster.name, clip.original.name, clip.tagged_original.name]
        # Originals of jobs that never became clips (waiting for the media step).
        files += [
            name
            for name in GenerationJob.objects.filter(prompt=prompt)
            .exclude(original="")
            .values_list("original", flat=True)
        ]
        GenerationJob.objects.filter(prompt=prompt).exclude(original="").update(original="")
        prompt_rejected.send(sender=reject_prompt, prompt=prompt)
        _resolve_reports(prompt=prompt)
        entry = audit.record(
            AuditEntry.Action.REJECT,
            AuditEntry.TargetKind.PROMPT,
            public_id,
            actor=actor,
            reason=reason,
            before=before,
            after={
                **_prompt_state(prompt),
                "clips_hidden": [c.public_id for c in clips],
                "files_deleted": len(set(filter(None, files))),
            },
        )
        transaction.on_commit(lambda: delete_stored(*sorted(set(filter(None, files)))), robust=True)
        if clips:
            refresh.refresh_soon(RECONCILE_DELAY_S)
    return Outcome("prompt", public_id, "reject", entry)


# --- clips ---------------------------------------------------------------------------------------


def _hide(clip: Clip) -> int:
    Clip.objects.filter(pk=clip.pk).update(hidden=True, hidden_at=timezone.now())
    clip.hidden = True
    return exclusions.exclude_votes_on(clip)


def hide_clip(public_id: str, *, actor, reason: str) -> Outcome:
    reason = _reason(reason)
    with transaction.atomic():
        clip = _locked_clip(public_id)
        if clip.hidden:
            raise DecisionError("already_hidden", "This clip is already hidden.")
        before = _clip_state(clip)
        excluded = _hide(clip)
        _resolve_reports(clip=clip)
        entry = audit.record(
            AuditEntry.Action.HIDE,
            AuditEntry.TargetKind.CLIP,
            public_id,
            actor=actor,
            reason=reason,
            before=before,
            after={**_clip_state(clip), "votes_excluded": excluded},
        )
        refresh.refresh_soon(RECONCILE_DELAY_S)
    return Outcome("clip", public_id, "hide", entry)


def restore_clip(public_id: str, *, actor, reason: str) -> Outcome:
    reason = _reason(reason)
    with transaction.atomic():
        clip = _locked_clip(public_id)
        if not clip.hidden:
            raise DecisionError("not_hidden", "This clip is not hidden.")
        if clip.job.prompt.moderation == ModerationState.REJECTED:
            raise DecisionError("prompt_rejected", "This clip's prompt was rejected and its files deleted.")
        before = _clip_state(clip)
        Clip.objects.filter(pk=clip.pk).update(hidden=False, hidden_at=None)
        clip.hidden = False
        recounted = exclusions.recount_votes_on(clip)
        entry = audit.record(
            AuditEntry.Action.RESTORE,
            AuditEntry.TargetKind.CLIP,
            public_id,
            actor=actor,
            reason=reason,
            before=before,
            after={**_clip_state(clip), "votes_recounted": recounted},
        )
        refresh.refresh_soon(RECONCILE_DELAY_S)
    return Outcome("clip", public_id, "restore", entry)


def approve_clip(public_id: str, *, actor, reason: str) -> Outcome:
    """The clip stays; its reports are closed."""
    reason = _reason(reason)
    with transaction.atomic():
        clip = _locked_clip(public_id)
        before = {"hidden": clip.hidden, "open_reports": clip.reports.filter(resolved_at__isnull=True).count()}
        resolved = _resolve_reports(clip=clip)
        entry = audit.record(
            AuditEntry.Action.DISMISS,
            AuditEntry.TargetKind.CLIP,
            public_id,
            actor=actor,
            reason=reason,
            before=before,
            after={"hidden": clip.hidden, "open_reports": 0, "reports_resolved": resolved},
        )
    return Outcome("clip", public_id, "approve", entry)


ACTIONS = {
    ("prompt", "approve"): approve_prompt,
    ("prompt", "reject"): reject_prompt,
    ("clip", "approve"): approve_clip,
    ("clip", "hide"): hide_clip,
    ("clip", "restore"): restore_clip,
}


def decide(kind: str, action: str, public_ids: list[str], *, actor, reason: str) -> tuple[list[Outcome], list[dict]]:
    """Bulk entry point: each target is decided in its own transaction, so one refusal does not
    undo the others. Returns (done, errors)."""
    handler = ACTIONS.get((kind, action))
    if handler is None:
        raise DecisionError("invalid_action", f"{action!r} is not something a moderator can do to a {kind!r}.")
    _reason(reason)
    if not public_ids:
        raise DecisionError("nothing_selected", "Select at least one item.")
    done, errors = [], []
    for public_id in list(dict.fromkeys(public_ids))[:200]:
        try:
            done.append(handler(public_id, actor=actor, reason=reason))
        except DecisionError as exc:
            errors.append({"target_id": public_id, "code": exc.code, "message": exc.message})
    return done, errors
