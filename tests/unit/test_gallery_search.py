"""Gallery text search on each stack (full-text with stemming on PostgreSQL, substring on SQLite)
and the gallery's capped page count (no COUNT(*) or OFFSET over a million prompts)."""

import pytest
from django.db import connection, transaction

from webapp.gallery.services import search
from webapp.studio.models import Prompt

pytestmark = pytest.mark.django_db


def _prompt(text: str) -> Prompt:
    return Prompt.objects.create(text=text, seed=1, duration_s=2, aspect_ratio="16:9")


def _found(text: str) -> set[str]:
    return set(search.prompts(search.GalleryQuery(text=text)).values_list("text", flat=True))


@pytest.mark.postgresql(reason="full-text search (tsvector column + GIN index) is PostgreSQL's")
def test_postgresql_search_is_full_text_with_stemming_and_an_index():
    _prompt("Two foxes running through the snow")
    _prompt("A fox sleeps")
    _prompt("Boxing kangaroo")  # "ox" inside a word: no longer a match
    assert _found("fox") == {"Two foxes running through the snow", "A fox sleeps"}
    assert _found("run") == {"Two foxes running through the snow"}
    assert _found("ox") == set()
    assert _found('"foxes running"') == {"Two foxes running through the snow"}
    assert _found("fox -snow") == {"A fox sleeps"}
    assert _found("fox OR kangaroos") == {"Two foxes running through the snow", "A fox sleeps", "Boxing kangaroo"}
    assert _found("((((&!") == set()  # user syntax never raises
    Prompt.objects.filter(text="A fox sleeps").update(text="A cat sleeps")  # the document follows edits
    assert _found("fox") == {"Two foxes running through the snow"}
    sql = str(search.prompts(search.GalleryQuery(text="fox")).query)
    assert "search_document" in sql and "websearch_to_tsquery" in sql and "LIKE" not in sql.upper()
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'prompt_search_document'")
        assert "gin (search_document)" in cur.fetchone()[0]


def test_embedded_search_is_a_case_insensitive_substring_match():
    _prompt("Two foxes running through the snow")
    _prompt("Boxing kangaroo")
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL searches words (test above)")
    assert _found("OX") == {"Two foxes running through the snow", "Boxing kangaroo"}
    assert _found("kangaroo") == {"Boxing kangaroo"}


def test_gallery_counts_at_most_max_results_and_says_so(client, settings, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 24)
    Prompt.objects.bulk_create(
        Prompt(text=f"a red fox number {n}", seed=n, duration_s=2, aspect_ratio="16:9") for n in range(30)
    )
    html = client.get("/").content.decode()
    assert "Page 1 of 2" in html and "newest 24 matches" in html
    assert client.get("/", {"page": 2}).status_code == 200
    last = client.get("/", {"page": 3}).content.decode()  # out of range: the last page, as before
    assert "Page 2 of 2" in last
    few = client.get("/", {"q": "number 7"}).content.decode()
    assert "Page 1 of 1" in few and "newest 24 matches" not in few


def test_categories_are_the_distinct_non_empty_ones_in_order():
    for category in ("sea", "", "animals", "sea", "Zoo", "animals "):
        Prompt.objects.create(text="x", seed=1, duration_s=2, aspect_ratio="16:9", category=category)
    distinct = Prompt.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct()
    assert search.categories() == list(distinct)  # the database's own order (its collation)
    assert sorted(search.categories()) == ["Zoo", "animals", "animals ", "sea"]


def test_gallery_counts_only_a_few_pages_ahead(client, monkeypatch):
    monkeypatch.setattr(search, "LOOKAHEAD_PAGES", 1)
    Prompt.objects.bulk_create(
        Prompt(text=f"a red fox number {n}", seed=n, duration_s=2, aspect_ratio="16:9") for n in range(30)
    )
    assert "Page 1 of 2 or more" in client.get("/").content.decode()
    second = client.get("/", {"page": 2}).content.decode()
    assert "Page 2 of 3<" in second.replace("</span>", "<") and "or more" not in second
    assert "Page 3 of 3" in client.get("/", {"page": "9"}).content.decode()


def test_a_later_page_of_a_search_or_category_holds_the_next_matches_in_order(client):
    """Pages are read by id in a subquery (CappedPaginator.page): the search and the filters
    must apply to the subquery's own rows, on page 2 as on page 1."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for n in range(30):
        prompt = Prompt.objects.create(
            text=f"{'a red fox' if n % 2 else 'a blue whale'} number {n}",
            category="animals" if n % 3 else "sea",
            seed=n,
            duration_s=2,
            aspect_ratio="16:9",
        )
        Prompt.objects.filter(pk=prompt.pk).update(created_at=now - timedelta(minutes=n))
    Prompt.objects.filter(text__endswith="number 3").update(moderation="held")

    def listed(params):
        page = client.get("/", params).content.decode()
        return [int(t.split("number ", 1)[1].split("<", 1)[0]) for t in page.split('class="prompt-text">')[1:]]

    foxes = [n for n in range(30) if n % 2 and n != 3]
    assert listed({"q": "fox"}) == foxes[:12] and listed({"q": "fox", "page": 2}) == foxes[12:]
    animals = [n for n in range(30) if n % 3 and n != 3]
    assert listed({"category": "animals", "page": 2}) == animals[12:]
    assert listed({"q": "fox", "category": "sea", "sort": "oldest"}) == [27, 21, 15, 9]


@pytest.mark.postgresql(reason="the count and the page's ids share one statement on PostgreSQL (array_agg)")
def test_a_searched_page_walks_the_matches_once(client):
    """The count and the page's ids come from one statement (CappedPaginator._count_and_ids):
    only one query of the page applies the search, and the page read after it is by id. A
    common word's deepest page at a million prompts read ~25,000 rows for each of two."""
    from django.test.utils import CaptureQueriesContext

    Prompt.objects.bulk_create(
        Prompt(text=f"a red fox number {n}", seed=n, duration_s=2, aspect_ratio="16:9") for n in range(30)
    )
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/", {"q": "fox", "page": 2}).content.decode()
    assert "Page 2 of 3" in html and html.count('class="prompt-text">') == 12
    searching = [q["sql"] for q in queries.captured_queries if "fox" in str(q["sql"]) or "search_document" in q["sql"]]
    assert len(searching) == 1, searching


@pytest.mark.postgresql(reason="the covering search index (INCLUDE a tsvector) is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # VACUUM: the visibility map an index-only scan needs
def test_a_search_can_walk_public_prompts_in_the_covering_index_alone():
    """A common word's deep page checks thousands of prompts' tsvectors newest first. The
    covering index holds everything that walk reads, so it needs no table row (an Index Only
    Scan). Whether the planner picks it depends on the table's size: at a million prompts it
    does (benchmarks/gallery_page.py, docs/figures.md); at a test's size a sequential scan and a
    sort cost less, so the EXPLAIN allows index-only scans alone. A lone created_at index, which
    drew the planner away from it at a million, must not come back (studio migration 0015)."""
    words = ["fox", "river", "neon", "storm", "forest"]
    Prompt.objects.bulk_create(
        Prompt(text=f"{words[i % 5]} {words[(i * 7) % 5]} number {i}", seed=i, duration_s=2, aspect_ratio="16:9")
        for i in range(2_000)
    )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE studio_prompt")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'studio_prompt'")
        definitions = [row[0] for row in cur.fetchall()]
        assert not [d for d in definitions if d.endswith("(created_at)")], definitions
        page_ids = search.prompts(search.GalleryQuery(text="fox")).values_list("pk")[:10_001]
        inner, params = page_ids.query.sql_with_params()
        with transaction.atomic():
            for planner_method in ("seqscan", "sort", "indexscan", "bitmapscan"):
                cur.execute(f"SET LOCAL enable_{planner_method} = off")
            cur.execute(f"EXPLAIN SELECT COUNT(*) FROM ({inner}) AS matched", params)
            plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Index Only Scan using prompt_public_newest_search" in plan, plan
