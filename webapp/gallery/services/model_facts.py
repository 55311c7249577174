"""What Screentest measured of one model: its clips, latencies, failure and refusal rates, and
its rating on the latest official leaderboard snapshot."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import median

from django.db.models import Count, Q

from webapp.arena.services import board
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState, ModerationState, Prompt, TERMINAL_STATES


@dataclass
class MeasuredFacts:
    clips: int
    finished_jobs: int
    resolution: str | None
    fps: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    failure_rate: float | None
    rejection_rate: float | None
    rating: dict | None  # the model's row on the latest official snapshot


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def measured(model: VideoModel) -> MeasuredFacts:
    counts = GenerationJob.objects.filter(model=model, state__in=TERMINAL_STATES).aggregate(
        finished=Count("id", filter=~Q(state=JobState.CANCELLED)),
        failed=Count("id", filter=Q(state=JobState.FAILED)),
        rejected=Count("id", filter=Q(state=JobState.REJECTED_BY_VENDOR)))
    rows = list(Clip.objects.filter(job__model=model, job__state=JobState.SUCCEEDED)
                .values_list("width", "height", "fps", "job__queued_at", "job__finished_at"))
    latencies = [(done - queued).total_seconds() for *_, queued, done in rows if queued and done]
    sizes = Counter(f"{w}×{h}" for w, h, *_ in rows)
    finished = counts["finished"]
    snapshot = board.latest(Prompt.Pool.OFFICIAL)
    rating = next((row for row in (snapshot.rows if snapshot else []) if row.get("model") == model.slug), None)
    return MeasuredFacts(
        clips=len(rows), finished_jobs=finished,
        resolution=sizes.most_common(1)[0][0] if sizes else None,
        fps=round(median(r[2] for r in rows), 2) if rows else None,
        latency_p50_s=percentile(latencies, 0.5), latency_p95_s=percentile(latencies, 0.95),
        failure_rate=counts["failed"] / finished if finished else None,
        rejection_rate=counts["rejected"] / finished if finished else None,
        rating=rating)


def clips_of(model: VideoModel):
    return (Clip.objects.filter(job__model=model, job__state=JobState.SUCCEEDED, hidden=False,
                                job__prompt__moderation=ModerationState.ALLOWED)
            .select_related("job__prompt")
            .order_by("-created_at", "-id"))
