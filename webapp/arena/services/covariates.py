"""What the controlled board and the agreement page know about the two clips of each vote.

The database groups the counted arena votes by ``(clip A, clip B, model A, model B, winner)``
and each clip's raw covariates and metrics are read once. Imported votes have no clips here:
those whose record described its clips (the export's ``clip_a_*`` / ``clip_b_*`` columns, kept
in ``Vote.imported_clips``) join with a stand-in clip per described side (negative ids, no
prompt); the others are left out. Clip A is the battle's left clip: the vote's ``model_a`` made it
(services/votes.py). The battle export carries every clip column the covariates are computed
from (`clip_a_*` / `clip_b_*`, docs/arena.md "Data interop"), so a released file can redo the
analysis (docs/arena.md, "Style control").
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, QuerySet

from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip
from workers.media.measure import METRIC_KEYS
from workers.ratings.counts import OUTCOME

from .clip_columns import CLIP_SOUND

# Clip properties shown beside the measurements on the agreement page.
CLIP_PROPERTIES = ("duration_s", "pixels", "fps", "loudness_lufs")
_CLIP_FIELDS = (
    "id",
    "duration_s",
    "width",
    "height",
    "fps",
    "has_audio",
    "audio",
    "measurements",
    "job__model__slug",
    "job__prompt_id",
)


def _number(value) -> float:
    """A finite float, or NaN for anything missing or not a number (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def _pixels(row: dict) -> float:
    return _number(row["width"]) * _number(row["height"])


def clip_covariates(row: dict) -> dict[str, float]:
    """Raw covariate values of one clip (a ``.values()`` row of :data:`_CLIP_FIELDS`), keyed
    as workers/ratings/style_control.COVARIATES names them; NaN = unknown."""
    measurements = row["measurements"] if isinstance(row["measurements"], dict) else {}
    audio = row["audio"] if isinstance(row["audio"], dict) else {}
    return {
        "duration": _number(row["duration_s"]),
        "pixels": _pixels(row),
        "fps": _number(row["fps"]),
        "motion": _number(measurements.get("motion_mean")),
        "sharpness": _number(measurements.get("sharpness")),
        "loudness": _number(audio.get("loudness_lufs")) if row["has_audio"] else math.nan,
        "audio": 1.0 if row["has_audio"] else 0.0,
    }


def clip_metrics(row: dict) -> dict[str, float]:
    """Every numeric measurement of one clip plus :data:`CLIP_PROPERTIES` (None -> left out)."""
    measurements = row["measurements"] if isinstance(row["measurements"], dict) else {}
    audio = row["audio"] if isinstance(row["audio"], dict) else {}
    out = {key: _number(v) for key, v in measurements.items()}
    out.update(
        duration_s=_number(row["duration_s"]),
        pixels=_pixels(row),
        fps=_number(row["fps"]),
        loudness_lufs=_number(audio.get("loudness_lufs")) if row["has_audio"] else math.nan,
    )
    return {key: v for key, v in out.items() if not math.isnan(v)}


@dataclass(frozen=True)
class VoteRows:
    """Counted arena votes grouped by clip pair and outcome, with what is known of each clip."""

    models: tuple[str, ...]
    a: np.ndarray  # model index of clip A's model
    b: np.ndarray
    clip_a: np.ndarray  # Clip ids
    clip_b: np.ndarray
    outcome: np.ndarray  # A's score
    count: np.ndarray
    clips: dict[int, dict]  # clip id -> its .values() row

    def __len__(self) -> int:
        return int(self.count.shape[0])

    def by_prompt(self) -> dict[int, list[tuple[str, str, float, float]]]:
        """``prompt id -> [(model A, model B, outcome, votes), ...]``: a battle's two clips
        answer the same prompt, so clip A's prompt is the battle's."""
        out: dict[int, list[tuple[str, str, float, float]]] = {}
        for a, b, clip, outcome, n in zip(
            self.a.tolist(), self.b.tolist(), self.clip_a.tolist(), self.outcome.tolist(), self.count.tolist()
        ):
            prompt = self.clips[clip]["job__prompt_id"]
            if prompt is not None:  # imported votes' stand-in clips answer no prompt of ours
                out.setdefault(prompt, []).append((self.models[a], self.models[b], outcome, n))
        return out

    def side_values(self, per_clip: dict[int, dict[str, float]], names) -> tuple[dict, dict]:
        """``({name: values on clip A}, {name: values on clip B})`` arrays over the rows."""
        side_a = {n: np.array([per_clip[c].get(n, math.nan) for c in self.clip_a.tolist()]) for n in names}
        side_b = {n: np.array([per_clip[c].get(n, math.nan) for c in self.clip_b.tolist()]) for n in names}
        return side_a, side_b


def vote_rows(votes: QuerySet) -> VoteRows:
    """Group ``votes`` (already filtered to the counted ones of a board) by clip pair."""
    # Model ids, not slugs: grouping by five integers is the cheapest GROUP BY over a
    # million votes (benchmarks/style_control.py); the slugs are read once afterwards.
    grouped = list(
        votes.filter(battle__isnull=False)
        .values_list("battle__left_id", "battle__right_id", "model_a_id", "model_b_id", "winner")
        .annotate(n=Count("id"))
        .order_by()
    )
    described = Counter(
        (ma, mb, w, json.dumps(sides, sort_keys=True))
        for ma, mb, w, sides in votes.filter(battle__isnull=True, imported_clips__isnull=False)
        .values_list("model_a_id", "model_b_id", "winner", "imported_clips")
        .iterator(chunk_size=5000)
    )
    model_ids = (
        {r[2] for r in grouped} | {r[3] for r in grouped} | {k[0] for k in described} | {k[1] for k in described}
    )
    slugs = dict(VideoModel.objects.filter(id__in=model_ids).values_list("id", "slug"))
    clip_ids = {r[0] for r in grouped} | {r[1] for r in grouped}
    clips = {row["id"]: row for row in Clip.objects.filter(id__in=clip_ids).values(*_CLIP_FIELDS)}
    grouped = [(left, right, slugs[ma], slugs[mb], w, n) for left, right, ma, mb, w, n in grouped]
    for number, ((ma, mb, w, sides_text), n) in enumerate(described.items()):
        sides = json.loads(sides_text)
        stand_in_a, stand_in_b = -2 * number - 1, -2 * number - 2
        clips[stand_in_a] = _described_clip(stand_in_a, sides.get("a") or {}, slugs[ma])
        clips[stand_in_b] = _described_clip(stand_in_b, sides.get("b") or {}, slugs[mb])
        grouped.append((stand_in_a, stand_in_b, slugs[ma], slugs[mb], w, n))
    models = tuple(sorted({r[2] for r in grouped} | {r[3] for r in grouped}))
    index = {m: i for i, m in enumerate(models)}
    return VoteRows(
        models=models,
        a=np.array([index[r[2]] for r in grouped], dtype=np.intp),
        b=np.array([index[r[3]] for r in grouped], dtype=np.intp),
        clip_a=np.array([r[0] for r in grouped], dtype=np.int64),
        clip_b=np.array([r[1] for r in grouped], dtype=np.int64),
        outcome=np.array([OUTCOME[r[4]] for r in grouped], dtype=np.float64),
        count=np.array([r[5] for r in grouped], dtype=np.float64),
        clips=clips,
    )


def _described_clip(stand_in_id: int, given: dict, model: str) -> dict:
    """A stand-in for an imported vote's clip, shaped like a ``.values(*_CLIP_FIELDS)`` row
    from the columns its record gave (clip_columns.CLIP_COLUMNS); what it did not give is unknown."""
    measurements = {k: v for k, v in given.items() if k in METRIC_KEYS}
    return {
        "id": stand_in_id,
        "duration_s": given.get("duration_s"),
        "width": given.get("width"),
        "height": given.get("height"),
        "fps": given.get("fps"),
        "has_audio": given.get("has_audio"),
        "audio": {k: given[k] for k in CLIP_SOUND if k in given},
        "measurements": measurements,
        "job__model__slug": model,
        "job__prompt_id": None,
    }
