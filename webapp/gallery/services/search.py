"""The gallery's query: text search, filters, sort. Pages cost a constant number of queries
(count, one page of prompts, their jobs with model and clip): filters are EXISTS subqueries on
the prompt, never joins that multiply rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from webapp.studio.models import TERMINAL_STATES, GenerationJob, JobState, ModerationState, Prompt

SORTS = {"newest": ("-created_at", "-id"), "oldest": ("created_at", "id")}
STATUSES = {
    "complete": "Every model finished",
    "in_progress": "Still generating",
    "has_failures": "Some model failed or refused",
}


@dataclass(frozen=True)
class GalleryQuery:
    text: str = ""
    model: str = ""  # a catalog slug
    category: str = ""
    status: str = ""  # a key of STATUSES
    since: date | None = None
    until: date | None = None
    sort: str = "newest"


def _jobs(**filters):
    return GenerationJob.objects.filter(prompt=OuterRef("pk"), **filters)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def prompts(query: GalleryQuery) -> QuerySet[Prompt]:
    qs = Prompt.objects.filter(moderation=ModerationState.ALLOWED)  # held and rejected prompts stay out
    if query.text:
        qs = qs.filter(text__icontains=query.text)
    if query.category:
        qs = qs.filter(category=query.category)
    if query.model:
        qs = qs.filter(Exists(_jobs(model__slug=query.model)))
    if query.status == "complete":
        qs = qs.filter(~Exists(_jobs().exclude(state=JobState.SUCCEEDED)), Exists(_jobs()))
    elif query.status == "in_progress":
        qs = qs.filter(Exists(_jobs().exclude(state__in=TERMINAL_STATES)))
    elif query.status == "has_failures":
        qs = qs.filter(Exists(_jobs(state__in=(JobState.FAILED, JobState.REJECTED_BY_VENDOR))))
    if query.since:
        qs = qs.filter(created_at__gte=_day_start(query.since))
    if query.until:
        qs = qs.filter(created_at__lt=_day_start(query.until + timedelta(days=1)))
    return qs.order_by(*SORTS.get(query.sort, SORTS["newest"]))


def with_results(qs: QuerySet[Prompt]) -> QuerySet[Prompt]:
    """Each prompt's jobs (model, clip poster) in one extra query per page."""
    jobs = (
        GenerationJob.objects.select_related("model", "clip")
        .order_by("model__display_name")
        .only(
            "id",
            "prompt_id",
            "state",
            "model__display_name",
            "model__slug",
            "model__is_procedural_demo",
            "clip__id",
            "clip__poster",
            "clip__public_id",
            "clip__hidden",
        )
    )
    return qs.prefetch_related(Prefetch("jobs", queryset=jobs))


def categories() -> list[str]:
    return list(Prompt.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct())


__all__ = ["GalleryQuery", "prompts", "with_results", "categories", "SORTS", "STATUSES"]
