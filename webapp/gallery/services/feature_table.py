"""The feature table: what the articles claim about each system (catalog), beside what
Screentest measured from its own jobs and clips (studio) and its arena rating (arena), with
the claims a measurement contradicts marked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.db.models import Q

from webapp.arena.services import board
from webapp.catalog import capabilities
from webapp.catalog.models import ClaimedSystem, ClaimSource, FeatureClaim, VideoModel
from webapp.studio.models import Prompt
from webapp.studio.services.measured import Measured, measure, measure_all

# Features the articles' claims about sound would be filed under (they make none so far).
SOUND_FEATURES = ("sound", "audio")

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


@dataclass
class ModelFacts(Measured):
    """What Screentest measured of a model (webapp/studio/services/measured.py), its latest
    official rating (a row of the arena's board), and whether its vendor retired it, as shown
    beside the articles' claims (a retired model's claims stay, as history)."""

    rating: dict | None = None
    retired: capabilities.Retirement | None = None
    declared_sound: str = ""  # what its adapter declares ("always with sound", "silent", ...)


def _with_ratings(measured: Iterable[Measured], ratings: dict[str, dict]) -> list[ModelFacts]:
    return [
        ModelFacts(
            **{f.name: getattr(m, f.name) for f in fields(Measured)},
            rating=ratings.get(m.model.slug),
            retired=capabilities.retirement(m.model),
            declared_sound=capabilities.declared_sound(m.model),
        )
        for m in measured
    ]


@dataclass
class ClaimView:
    claim: FeatureClaim
    contradicted_by: list[str] = field(default_factory=list)
    # What Screentest measured about the same thing, shown beside the claim (not a verdict).
    beside: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return FEATURE_LABELS.get(self.claim.feature, self.claim.feature)


def claimed_seconds(text: str) -> float | None:
    """The longest duration a claim states: "Up to 2 minutes" -> 120, "Typically 4-16 seconds" -> 16."""
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    if not numbers:
        return None
    unit = 60.0 if re.search(r"\bmin", text, re.I) else 1.0
    return max(numbers) * unit


def ratings_by_model() -> dict[str, dict]:
    snapshot = board.latest(Prompt.Pool.OFFICIAL)
    return {row["model"]: row for row in (snapshot.rows if snapshot else [])}


def contradictions(claim: FeatureClaim, measured: list[ModelFacts]) -> list[str]:
    """What our own data says against a claim (only where the comparison is meaningful)."""
    notes: list[str] = []
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


# Claims that speak of motion: the measured motion and smoothness are shown beside them. Not
# marked as contradicted: the articles' words ("fluidity") have no scale to hold a number to.
_MOTION_WORDS = re.compile(r"motion|fluid|smooth|dynamic", re.I)


def measured_beside(claim: FeatureClaim, measured: list[ModelFacts]) -> list[str]:
    """Our measurements of what a claim speaks of (duration, resolution, motion), per model."""
    notes: list[str] = []
    for m in measured:
        if not m.clips:
            continue
        name = m.model.display_name
        if claim.feature == "max_duration" and m.median_duration_s is not None:
            notes.append(f"{name}: median clip {m.median_duration_s:.1f} s, longest {m.longest_clip_s:.1f} s")
        elif claim.feature == "resolution" and m.resolution:
            notes.append(f"{name}: clips played at {m.resolution} (web rendition), {m.fps:g} fps median")
        elif _MOTION_WORDS.search(claim.value) and "motion_mean" in m.picture:
            motion, smooth = m.picture["motion_mean"], m.picture.get("smoothness_error")
            text = f"{name}: motion {motion.median:.2f} px/frame ({motion.low:.2f}-{motion.high:.2f})"
            if smooth is not None:
                text += f", smoothness error {smooth.median:.4f} ({smooth.low:.4f}-{smooth.high:.4f})"
            notes.append(text + f" over {motion.clips} clips")
    return notes


def claim_view(claim: FeatureClaim, measured: list[ModelFacts]) -> ClaimView:
    return ClaimView(claim, contradictions(claim, measured), measured_beside(claim, measured))


@dataclass
class SystemColumn:
    system: ClaimedSystem
    measured: list[ModelFacts]
    claims: dict[str, list[ClaimView]]


def feature_table() -> dict:
    ratings = ratings_by_model()
    systems = list(ClaimedSystem.objects.prefetch_related("claims"))
    wanted = {slug for system in systems for slug in system.model_slugs}
    # Every model Screentest has clips of is measured, whether or not an article speaks of it
    # (the offline demo models of a fresh install are the only ones with clips there).
    with_clips = VideoModel.objects.filter(jobs__clip__isnull=False).values("pk")
    models = {m.slug: m for m in VideoModel.objects.filter(Q(slug__in=wanted) | Q(pk__in=with_clips))}
    facts = {m.model.slug: m for m in _with_ratings(measure_all(models.values()).values(), ratings)}
    columns = []
    for system in systems:
        measured = [facts[slug] for slug in system.model_slugs if slug in facts]
        by_feature: dict[str, list[ClaimView]] = {}
        for claim in system.claims.all():
            by_feature.setdefault(claim.feature, []).append(claim_view(claim, measured))
        columns.append(SystemColumn(system, measured, by_feature))
    tied = {m.model.slug for c in columns for m in c.measured}
    unclaimed = sorted((m for m in facts.values() if m.model.slug not in tied), key=lambda m: m.model.display_name)
    features = [f for f in FEATURE_LABELS if any(f in c.claims for c in columns)]
    rows = [
        {"feature": f, "label": FEATURE_LABELS[f], "cells": [c.claims.get(f, []) for c in columns]} for f in features
    ]
    sound_row = [
        {"claims": [cv for f in SOUND_FEATURES for cv in c.claims.get(f, [])], "measured": c.measured} for c in columns
    ]
    return {
        "columns": columns,
        "rows": rows,
        "sound_row": sound_row,
        "sources": list(ClaimSource.objects.all()),
        "measured": [m for c in columns for m in c.measured] + unclaimed,
        "unclaimed": unclaimed,
        "rendition_max_height": settings.RENDITION_MAX_HEIGHT,
    }


def model_facts(model: VideoModel) -> dict:
    measured = _with_ratings([measure(model)], ratings_by_model())[0]
    systems = [s for s in ClaimedSystem.objects.prefetch_related("claims") if model.slug in s.model_slugs]
    claims = [claim_view(c, [measured]) for s in systems for c in s.claims.all()]
    return {
        "model": model,
        "measured": measured,
        "systems": systems,
        "claims": claims,
        "labels": FEATURE_LABELS,
        "sources": {s.label: s for s in ClaimSource.objects.all()},
    }
