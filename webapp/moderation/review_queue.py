"""What the review queue shows: held prompts, and clips and prompts with open reports,
most-reported first, then oldest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q

from webapp.studio.models import Clip, ModerationState, Prompt

from .models import Report

QUEUE_LIMIT = 200


@dataclass
class QueueItem:
    kind: str  # "prompt" | "clip"
    public_id: str
    since: datetime
    reports: int
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    held: bool = False
    hidden: bool = False
    prompt: Prompt | None = None
    clip: Clip | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.public_id}"


def _report_details(reports) -> tuple[dict, dict]:
    reasons: dict = {}
    notes: dict = {}
    labels = dict(Report.Reason.choices)
    for target, reason, note in reports:
        reasons.setdefault(target, {}).setdefault(labels.get(reason, reason), 0)
        reasons[target][labels.get(reason, reason)] += 1
        if note:
            notes.setdefault(target, []).append(note)
    return reasons, notes


def _reason_list(counts: dict) -> list[str]:
    return [f"{label} ×{n}" if n > 1 else label for label, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def items(limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    open_reports = Report.objects.filter(resolved_at__isnull=True)
    clip_counts = (
        open_reports.filter(clip__isnull=False)
        .values("clip_id")
        .annotate(n=Count("id"), first=Min("created_at"))
        .order_by("-n", "first")[:limit]
    )
    prompt_counts = (
        open_reports.filter(clip__isnull=True)
        .values("prompt_id")
        .annotate(n=Count("id"), first=Min("created_at"))
        .order_by("-n", "first")[:limit]
    )
    clip_ids = {row["clip_id"]: row for row in clip_counts}
    prompt_rows = {row["prompt_id"]: row for row in prompt_counts}
    clip_reasons, clip_notes = _report_details(
        open_reports.filter(clip_id__in=clip_ids).values_list("clip_id", "reason", "note")
    )
    prompt_reasons, prompt_notes = _report_details(
        open_reports.filter(clip__isnull=True, prompt_id__in=prompt_rows).values_list("prompt_id", "reason", "note")
    )

    queue: list[QueueItem] = []
    for clip in Clip.objects.filter(pk__in=clip_ids).select_related("job__prompt", "job__model"):
        row = clip_ids[clip.pk]
        queue.append(
            QueueItem(
                "clip",
                clip.public_id,
                row["first"],
                row["n"],
                _reason_list(clip_reasons[clip.pk]),
                clip_notes.get(clip.pk, []),
                hidden=clip.hidden,
                clip=clip,
                prompt=clip.job.prompt,
            )
        )
    prompts = (
        Prompt.objects.filter(Q(pk__in=prompt_rows) | Q(moderation=ModerationState.HELD))
        .exclude(moderation=ModerationState.REJECTED)
        .prefetch_related("jobs__model")
    )
    for prompt in prompts.order_by("created_at")[:limit]:
        prompt_row = prompt_rows.get(prompt.pk)
        held = prompt.moderation == ModerationState.HELD
        queue.append(
            QueueItem(
                "prompt",
                prompt.public_id,
                prompt.created_at if held or not prompt_row else prompt_row["first"],
                prompt_row["n"] if prompt_row else 0,
                _reason_list(prompt_reasons.get(prompt.pk, {})),
                prompt_notes.get(prompt.pk, []),
                held=held,
                prompt=prompt,
            )
        )
    queue.sort(key=lambda item: (-item.reports, item.since))
    return queue[:limit]


def hidden_clips(limit: int = 50):
    """Recently hidden clips, so a moderator can restore one without a report."""
    return (
        Clip.objects.filter(hidden=True)
        .exclude(job__prompt__moderation=ModerationState.REJECTED)
        .select_related("job__prompt", "job__model")
        .order_by("-hidden_at")[:limit]
    )
