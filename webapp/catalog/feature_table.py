"""The feature table: what the articles claim about each system, beside what Screentest
measured from its own jobs and clips, with the claims a measurement contradicts marked."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings

from webapp.studio.models import Clip, GenerationJob, JobState

from .models import ClaimedSystem, ClaimSource, FeatureClaim, VideoModel

FEATURE_LABELS = {
    "max_duration": "Max duration",
    "consistency": "Consistency",
    "physics_accuracy": "Physics accuracy",
    "availability": "Availability",
    "primary_strength": "Primary strength",
    "resolution": "Resolution",
    "architecture": "Architecture",
    "known_weaknesses": "Known weaknesses",
    "safety_measures": "Safety measures",
    "timeline": "Timeline",
    "cost": "Cost",
    "control": "Control",
    "flexibility": "Flexibility",
}
TERMINAL = (JobState.SUCCEEDED, JobState.FAILED, JobState.REJECTED_BY_VENDOR)


@dataclass
class Measured:
    model: VideoModel
    jobs_finished: int = 0
    clips: int = 0
    longest_clip_s: float | None = None
    resolution: str = ""
    fps: float | None = None
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    failure_rate: float | None = None
    rejection_rate: float | None = None
    cost_per_video_second_usd: float | None = None
    rating: dict | None = None


@dataclass
class ClaimView:
    claim: FeatureClaim
    contradicted_by: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return FEATURE_LABELS.get(self.claim.feature, self.claim.feature)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low, high = int(index), min(int(index) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def claimed_seconds(text: str) -> float | None:
    """The longest duration a claim states: "Up to 2 minutes" -> 120, "Typically 4-16 seconds" -> 16."""
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    if not numbers:
        return None
    unit = 60.0 if re.search(r"\bmin", text, re.I) else 1.0
    return max(numbers) * unit


def ratings_by_model() -> dict[str, dict]:
    from webapp.arena.services import board
    from webapp.studio.models import Prompt

    snapshot = board.latest(Prompt.Pool.OFFICIAL)
    return {row["model"]: row for row in (snapshot.rows if snapshot else [])}


def measure(model: VideoModel, ratings: dict[str, dict]) -> Measured:
    m = Measured(model=model, rating=ratings.get(model.slug))
    jobs = list(
        GenerationJob.objects.filter(model=model, state__in=TERMINAL).values(
            "state", "queued_at", "finished_at", "cost_usd", "clip__duration_s"
        )
    )
    m.jobs_finished = len(jobs)
    if jobs:
        m.failure_rate = sum(j["state"] == JobState.FAILED for j in jobs) / len(jobs)
        m.rejection_rate = sum(j["state"] == JobState.REJECTED_BY_VENDOR for j in jobs) / len(jobs)
    latencies = [
        (j["finished_at"] - j["queued_at"]).total_seconds()
        for j in jobs
        if j["state"] == JobState.SUCCEEDED and j["finished_at"] and j["queued_at"]
    ]
    m.latency_p50_s, m.latency_p95_s = percentile(latencies, 0.5), percentile(latencies, 0.95)
    paid = [
        (float(j["cost_usd"]), j["clip__duration_s"])
        for j in jobs
        if j["cost_usd"] is not None and j["clip__duration_s"]
    ]
    if paid:
        m.cost_per_video_second_usd = sum(c for c, _ in paid) / sum(d for _, d in paid)
    clips = list(Clip.objects.filter(job__model=model).values("duration_s", "width", "height", "fps"))
    m.clips = len(clips)
    if clips:
        m.longest_clip_s = max(c["duration_s"] for c in clips)
        m.resolution = Counter(f"{c['width']}x{c['height']}" for c in clips).most_common(1)[0][0]
        m.fps = statistics.median(c["fps"] for c in clips)
    return m


def contradictions(claim: FeatureClaim, measured: list[Measured]) -> list[str]:
    """What our own data says against a claim (only where the comparison is meaningful)."""
    notes = []
    if claim.feature == "max_duration":
        claimed = claimed_seconds(claim.value)
        if claimed is None:
            return notes
        for m in measured:
            if m.model.is_procedural_demo:
                continue
            if m.model.max_duration_s < claimed:
                notes.append(f"{m.model.display_name}: its API accepts at most {m.model.max_duration_s:g} s")
            if m.longest_clip_s is not None and m.longest_clip_s < claimed:
                notes.append(f"{m.model.display_name}: longest clip obtained {m.longest_clip_s:.1f} s")
    return notes


@dataclass
class SystemColumn:
    system: ClaimedSystem
    measured: list[Measured]
    claims: dict[str, list[ClaimView]]


def feature_table() -> dict:
    ratings = ratings_by_model()
    models = {m.slug: m for m in VideoModel.objects.all()}
    columns = []
    for system in ClaimedSystem.objects.prefetch_related("claims"):
        measured = [measure(models[slug], ratings) for slug in system.model_slugs if slug in models]
        by_feature: dict[str, list[ClaimView]] = {}
        for claim in system.claims.all():
            by_feature.setdefault(claim.feature, []).append(ClaimView(claim, contradictions(claim, measured)))
        columns.append(SystemColumn(system, measured, by_feature))
    features = [f for f in FEATURE_LABELS if any(f in c.claims for c in columns)]
    rows = [
        {"feature": f, "label": FEATURE_LABELS[f], "cells": [c.claims.get(f, []) for c in columns]} for f in features
    ]
    return {
        "columns": columns,
        "rows": rows,
        "sources": list(ClaimSource.objects.all()),
        "measured": [m for c in columns for m in c.measured],
        "rendition_max_height": settings.RENDITION_MAX_HEIGHT,
    }


def model_facts(model: VideoModel) -> dict:
    measured = measure(model, ratings_by_model())
    systems = [s for s in ClaimedSystem.objects.prefetch_related("claims") if model.slug in s.model_slugs]
    claims = [ClaimView(c, contradictions(c, [measured])) for s in systems for c in s.claims.all()]
    return {
        "model": model,
        "measured": measured,
        "systems": systems,
        "claims": claims,
        "labels": FEATURE_LABELS,
        "sources": {s.label: s for s in ClaimSource.objects.all()},
    }
