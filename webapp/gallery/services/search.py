"""The gallery's query: text search, filters, sort. Pages cost a constant number of queries
(count, one page of prompts, their jobs with model and clip): filters are EXISTS subqueries on
the prompt, never joins that multiply rows.

Text search depends on the database. On PostgreSQL it is full-text search: the words of the
query (websearch syntax: "quoted phrases", -excluded, or) against studio_prompt.search_document,
a stored tsvector of the prompt text with the 'english' configuration and a GIN index on it
(studio migration 0006): stemmed ("foxes" finds "fox"), whole words only, stop words ignored.
On SQLite (the embedded stack) it is a case-insensitive substring match (a scan; fine at the
sizes one machine with SQLite serves)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.expressions import Expression
from django.utils import timezone

from webapp.catalog.models import VideoModel
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


SEARCH_CONFIG = "english"  # must match the configuration of the column (studio migration 0006)


class SearchDocument(Expression):
    """The prompt's search_document column (not a model field: studio migration 0009), named
    through the alias the query gives the prompt table, so that it still means the same row
    inside a subquery (the paginator reads a page's ids in one, where the table is U0)."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.search_document", []


def matching_text(qs: QuerySet[Prompt], text: str) -> QuerySet[Prompt]:
    """Prompts whose text matches a search box entry: full-text on PostgreSQL, substring on SQLite."""
    if connections[qs.db].vendor != "postgresql":
        return qs.filter(text__icontains=text)
    return qs.alias(search_document=SearchDocument()).filter(
        search_document=SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    )


def prompts(query: GalleryQuery) -> QuerySet[Prompt]:
    qs: QuerySet[Prompt] = Prompt.objects.filter(moderation=ModerationState.ALLOWED)  # held, rejected: out
    if query.text:
        qs = matching_text(qs, query.text)
    if query.category:
        qs = qs.filter(category=query.category)
    if query.model:
        # The model's id once (a scalar subquery: an InitPlan), so that each prompt's check is
        # one probe of the (prompt, model) unique index, not a join with the catalog per prompt.
        model_id = Subquery(VideoModel.objects.filter(slug=query.model).values("id")[:1])
        qs = qs.filter(Exists(_jobs(model_id=model_id)))
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


# The gallery pages through at most this many matches of a query (834 pages of 12), and counts
# only LOOKAHEAD_PAGES past the page asked for: the count is a COUNT(*) over a LIMIT and the
# deepest page an OFFSET of at most MAX_RESULTS, both bounded however many prompts there are
# (a COUNT of every match of a narrow filter combination walked 350,000 prompts at a million).
# Older prompts are reached by narrowing (dates, search, filters). Four pages ahead, not ten:
# a search with three filters counts by walking candidate prompts with a job subquery each,
# and its page 5 counted 180 matches where 108 now say "Page 5 of 9 or more".
MAX_RESULTS = 10_000
LOOKAHEAD_PAGES = 4


class CappedPaginator(Paginator):
    """A Paginator that counts at most LOOKAHEAD_PAGES past the requested page and never past
    MAX_RESULTS. `capped`: there are more matches than counted; `at_max`: the count stopped at
    MAX_RESULTS (no page past it will be served).

    On PostgreSQL the count and the requested page's ids come from one query (`_count_and_ids`):
    the matches' ids in page order up to the count's limit, counted and sliced. Counting and then reading the page walked the same
    matches twice: a common word's deepest page ("fox", 40 % of a million prompts, page 834)
    checks ~27,000 prompts' tsvectors to find 10,000 matches, and spent 46 ms of SQL doing it
    twice. The walk itself stays in one index (prompt_public_newest_search carries the tsvector:
    studio migration 0015), so no prompt row is read from the table for it.

    The page is then read by id, passed through `present` (e.g. with_results). A page other than
    the one asked for (past the end: the last one) has its ids read by a subquery whose OFFSET
    PostgreSQL can skip in an index alone (e.g. the partial prompt_category_newest)."""

    capped = False
    at_max = False
    _requested = 1
    _requested_ids: list[int] | None = None

    def __init__(self, object_list, per_page, present: Callable[[QuerySet], QuerySet] | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.present = present or (lambda rows: rows)

    def page(self, number):
        number = self.validate_number(number)
        rows: QuerySet = self.object_list  # type: ignore[assignment]
        if number == self._requested and self._requested_ids is not None:
            ids: list[int] | QuerySet = self._requested_ids
        else:
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            ids = rows.values("pk")[bottom:top]
        page_rows = Prompt.objects.filter(pk__in=ids).order_by(*rows.query.order_by)
        return Page(self.present(page_rows), number, self)

    def get_page(self, number):
        try:
            self._requested = max(1, int(number))
        except (TypeError, ValueError):
            self._requested = 1
        return super().get_page(number)

    @property
    def count(self) -> int:
        if not hasattr(self, "_capped_count"):
            limit = min(MAX_RESULTS, (self._requested + LOOKAHEAD_PAGES) * self.per_page)
            found, self._requested_ids = self._count_and_ids(limit + 1)
            self.capped = found > limit
            self.at_max = self.capped and limit == MAX_RESULTS
            self._capped_count = min(found, limit)
        return self._capped_count

    def _count_and_ids(self, limit: int) -> tuple[int, list[int] | None]:
        """How many of the first `limit` matches there are and, on PostgreSQL, the ids of the
        requested page's (in page order) in the same statement: the matches' ids in page order
        up to the limit, counted and sliced in one aggregate (an array of at most MAX_RESULTS
        ids: ~1 ms at 10,000). A numbered CTE (ROW_NUMBER, read twice) would run on SQLite too,
        but cost ~1 us a row more than it saved on index-only pages; SQLite keeps two queries."""
        rows: QuerySet = self.object_list  # type: ignore[assignment]
        if connections[rows.db].vendor != "postgresql":
            return rows.order_by()[:limit].count(), None
        inner, params = rows.values_list("pk")[:limit].query.get_compiler(using=rows.db).as_sql()
        bottom = (self._requested - 1) * self.per_page
        # The subquery's ORDER BY orders array_agg's input (PostgreSQL feeds an aggregate in the
        # order of a sorted subquery; the later-page test checks the order).
        sql = f"SELECT COUNT(*), (array_agg(matched.id))[%s:%s] FROM ({inner}) AS matched (id)"
        with connections[rows.db].cursor() as cursor:
            cursor.execute(sql, (bottom + 1, bottom + self.per_page, *params))
            found, ids = cursor.fetchone()
        return found, list(ids or [])


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


# The distinct categories by a skip scan of the category index: one index probe per category
# instead of a DISTINCT over every prompt (every gallery page asks, and at a million prompts
# the DISTINCT alone was over the page budget). Plain SQL that PostgreSQL and SQLite both run.
_CATEGORIES_SQL = """
WITH RECURSIVE found(category) AS (
    SELECT MIN(category) FROM {table} WHERE category > ''
    UNION ALL
    SELECT (SELECT MIN(category) FROM {table} WHERE category > found.category)
    FROM found WHERE found.category IS NOT NULL
)
SELECT category FROM found WHERE category IS NOT NULL
"""


def categories() -> list[str]:
    with connections[Prompt.objects.db].cursor() as cursor:
        cursor.execute(_CATEGORIES_SQL.format(table=Prompt._meta.db_table))
        return [row[0] for row in cursor.fetchall()]


__all__ = [
    "GalleryQuery",
    "prompts",
    "matching_text",
    "CappedPaginator",
    "MAX_RESULTS",
    "with_results",
    "categories",
    "SORTS",
    "STATUSES",
]
