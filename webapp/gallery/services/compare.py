"""Which clips of a prompt a comparison shows, read from a shareable link
(`?models=a,b,c&t=1.5`), with a clear error for a link that cannot be honoured."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from webapp.core.errors import ScreentestError
from webapp.studio.models import GenerationJob, JobState, Prompt

MIN_CLIPS = 2
MAX_CLIPS = 4


class SelectionError(ScreentestError):
    """A comparison link that cannot be honoured (unknown or unfinished models, too few or many)."""


@dataclass
class Comparison:
    prompt: Prompt
    available: list[GenerationJob]  # every finished job of the prompt, by model name
    chosen: list[GenerationJob] = field(default_factory=list)
    start_s: float = 0.0

    @property
    def chosen_slugs(self) -> list[str]:
        return [job.model.slug for job in self.chosen]

    @property
    def frame_s(self) -> float:
        """One frame of the fastest clip: what a frame step moves."""
        fps = max((job.clip.fps for job in self.chosen), default=24.0)
        return 1.0 / fps if fps > 0 else 1 / 24


def finished_jobs(prompt: Prompt) -> list[GenerationJob]:
    return list(
        GenerationJob.objects.filter(prompt=prompt, state=JobState.SUCCEEDED, clip__isnull=False, clip__hidden=False)
        .select_related("model", "clip")
        .order_by("model__display_name", "model__slug")
    )


def parse_models(values: list[str]) -> list[str]:
    """`models=a,b` and `models=a&models=b` both work; order kept, duplicates dropped."""
    slugs: list[str] = []
    for value in values:
        for slug in value.split(","):
            slug = slug.strip()
            if slug and slug not in slugs:
                slugs.append(slug)
    return slugs


def parse_time(raw: str | None) -> float:
    if raw in (None, ""):
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise SelectionError("invalid_time", f"t must be a number of seconds, not {raw[:20]!r}.") from None
    if not math.isfinite(value) or value < 0:
        raise SelectionError("invalid_time", "t must be zero or a positive number of seconds.")
    return value


def build(prompt: Prompt, model_values: list[str], time_value: str | None) -> Comparison:
    """Raises SelectionError for a selection that names unknown or unfinished models, fewer
    than 2 or more than 4. With no selection: the first four finished clips."""
    comparison = Comparison(prompt=prompt, available=finished_jobs(prompt))
    comparison.start_s = parse_time(time_value)
    wanted = parse_models(model_values)
    if not wanted:
        comparison.chosen = comparison.available[:MAX_CLIPS]
        return comparison
    by_slug = {job.model.slug: job for job in comparison.available}
    missing = [slug for slug in wanted if slug not in by_slug]
    if missing:
        raise SelectionError("unknown_model", "No finished clip of this prompt from: " + ", ".join(missing[:4]) + ".")
    if not MIN_CLIPS <= len(wanted) <= MAX_CLIPS:
        raise SelectionError(
            "selection_size", f"Choose {MIN_CLIPS} to {MAX_CLIPS} models to compare ({len(wanted)} chosen)."
        )
    comparison.chosen = [by_slug[slug] for slug in wanted]
    return comparison
