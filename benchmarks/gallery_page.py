"""Gallery page server time at 10,000 (or 1,000,000) prompts x 6 (or 8) models, against the 50 ms target.

Run: .venv/bin/python benchmarks/gallery_page.py [--prompts 10000] [--models 6] [--repeat 15]
     [--old-way] [--candidates] [--keep]
     scale figure (issue 16): --prompts 1000000 --models 8 --old-way

Creates its own scratch PostgreSQL database (screentest_bench_gallery_<pid>) on
BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432; the `postgres`
database is used only to issue CREATE / DROP DATABASE), migrates it, loads the models, the
prompts (random words; ~0.1 % also contain a rare word), one job per prompt and model (1 in
10 failed or refused) and a clip per succeeded job with COPY (secondary indexes dropped
during the load and rebuilt after, then VACUUM ANALYZE), then times the gallery view through
Django's test client (the whole server side: URL resolution, form, queries, template; no
network, no browser): first and deepest pages, full-text searches (common, stemmed, rare),
searches with filters, filters alone, a date range. Reported: median over --repeat requests
after 3 warm-ups (wall time; CPU time of this process, which is Django's side and what other
work on the machine inflates least; wall time of the SQL as the driver saw it), the number of
SQL queries, and the ratio to the 50 ms target (< 1 is within
target). --old-way also times the previous query (ILIKE, a COUNT(*) of every match, OFFSET to
the last page) for comparison; --candidates the candidate indexes below, created in the
scratch database only. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 50.0
SERVER = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
WORDS = (
    "fox river neon city storm forest paper boat lighthouse snow desert robot dancer ocean waves "
    "sunset market train bird cat dog mountain night rain fire glass slow fast golden red blue"
).split()
CATEGORIES = ["animals", "scenery", "people", "motion", "text", "abstract"]
STATES = ["succeeded"] * 18 + ["failed", "rejected_by_vendor"]
RARE_WORD, RARE_RATE = "zeppelin", 0.001  # a word in ~0.1 % of prompts: the index-driven search path
ZERO_HASH = "0" * 64
CANDIDATE_INDEXES = {
    "prompt (created_at, id)": "CREATE INDEX bench_prompt_created_id ON studio_prompt (created_at DESC, id DESC)",
    "pg_trgm on prompt text": "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "CREATE INDEX bench_prompt_text_trgm ON studio_prompt USING gin (text gin_trgm_ops)",
}


def copy_rows(cur, table: str, columns: list[str], rows) -> None:
    """COPY rows (tuples; None is NULL; no value contains a tab, newline or backslash) in text
    chunks: one write per 50,000 rows instead of one per row, which is what keeps a million
    prompts and eight million jobs to minutes."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        lines: list[str] = []
        for row in rows:
            lines.append("\t".join("\\N" if v is None else str(v) for v in row))
            if len(lines) >= 50_000:
                copy.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            copy.write("\n".join(lines) + "\n")


BIG_TABLES = ("studio_prompt", "studio_generationjob", "studio_clip")


def drop_secondary_indexes(cur) -> list[str]:
    """Bulk-load practice (scratch database only): drop the non-constraint indexes, COPY, rebuild."""
    cur.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        (list(BIG_TABLES),),
    )
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def load(conn, prompts: int, models: int = 6, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    iso = now.isoformat()
    with conn.cursor() as cur:
        indexes = drop_secondary_indexes(cur)
        # The rows are generated consistent; skip the per-row foreign-key trigger checks (16 M of
        # them at a million prompts). Scratch database, this session only; studio has no other triggers.
        cur.execute("SET session_replication_role = replica")
        copy_rows(
            cur,
            "catalog_videomodel",
            [
                "id",
                "slug",
                "display_name",
                "vendor",
                "backend_key",
                "backend_params",
                "description",
                "is_procedural_demo",
                "enabled",
                "in_arena",
                "max_duration_s",
                "supported_aspect_ratios",
                "created_at",
            ],
            [
                (i, f"model-{i}", f"Model {i}", "Bench", "demo", "{}", "", "t", "t", "t", 10, "[]", iso)
                for i in range(1, models + 1)
            ],
        )

        def prompt_rows():
            for p in range(1, prompts + 1):
                words = rng.choices(WORDS, k=rng.randint(6, 24))
                if rng.random() < RARE_RATE:
                    words.append(RARE_WORD)
                created = (now - timedelta(minutes=7 * p)).isoformat()
                yield (p, f"p{p:08d}", " ".join(words), "", p, 4.0, "16:9", "web", "community",
                       rng.choice(CATEGORIES), "allowed", created)  # fmt: skip

        copy_rows(
            cur,
            "studio_prompt",
            [
                "id",
                "public_id",
                "text",
                "negative_prompt",
                "seed",
                "duration_s",
                "aspect_ratio",
                "source",
                "pool",
                "category",
                "moderation",
                "created_at",
            ],
            prompt_rows(),
        )
        # Job states drawn once, so that the clips below go with the succeeded jobs.
        states = [rng.choice(STATES) for _ in range(prompts * models)]

        def job_rows():
            for p in range(1, prompts + 1):
                created_dt = now - timedelta(minutes=7 * p)
                created = created_dt.isoformat()
                finished = (created_dt + timedelta(seconds=100)).isoformat()
                for m in range(1, models + 1):
                    job_id = (p - 1) * models + m
                    yield (job_id, p, m, states[job_id - 1], 1, 1, "", None, "", "{}", "",
                           created, created, created, finished, "", "", 0)  # fmt: skip

        def clip_rows():
            for job_id, state in enumerate(states, start=1):
                if state != "succeeded":
                    continue
                p = (job_id - 1) // models + 1
                created = (now - timedelta(minutes=7 * p)).isoformat()
                name = f"{job_id:024d}"
                yield (job_id, job_id, f"c{job_id:010d}", f"originals/{name}.mp4", f"clips/{name}.mp4",
                       f"posters/{name}.jpg", ZERO_HASH, ZERO_HASH, 4.0, 512, 288, 24.0, "h264", 100000, 100000,
                       "h264", "f", "{}", created, "", "f", "{}", "{}", 0)  # fmt: skip

        copy_rows(
            cur,
            "studio_generationjob",
            [
                "id",
                "prompt_id",
                "model_id",
                "state",
                "attempts",
                "media_attempts",
                "lease_owner",
                "lease_expires_at",
                "vendor_job_id",
                "vendor_metadata",
                "original",
                "queued_at",
                "enqueued_at",
                "started_at",
                "finished_at",
                "error_code",
                "error_message",
                "resend_count",
            ],
            job_rows(),
        )
        copy_rows(
            cur,
            "studio_clip",
            [
                "id",
                "job_id",
                "public_id",
                "original",
                "web",
                "poster",
                "sha256_original",
                "sha256_web",
                "duration_s",
                "width",
                "height",
                "fps",
                "codec",
                "bytes",
                "original_bytes",
                "original_codec",
                "hidden",
                "c2pa_summary",
                "created_at",
                "tagged_original",
                "has_audio",
                "audio",
                "measurements",
                "measurements_version",
            ],
            clip_rows(),
        )
        for table in ("catalog_videomodel", *BIG_TABLES):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()  # any deferred trigger events run here; CREATE INDEX needs them done
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("SET maintenance_work_mem = '256MB'")
        for definition in indexes:
            cur.execute(definition)
    conn.commit()
    with conn.cursor() as cur:
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")  # the visibility map too: index-only scans, as on a settled database
    clips = sum(1 for state in states if state == "succeeded")
    print(f"loaded {prompts:,} prompts, {len(states):,} jobs ({models} models), {clips:,} clips")


def measure(client, url: str, repeat: int) -> tuple[float, float, float, int]:
    """Median wall ms, median CPU ms of this process (Django's side), median SQL ms (wall time
    of the page's queries as the driver saw them), number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    wall, cpu, sql = [], [], []
    n = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
        sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        n = len(queries)
    return statistics.median(wall), statistics.median(cpu), statistics.median(sql), n


def report(client, pages: dict[str, str], repeat: int, label: str) -> dict[str, float]:
    print(f"\n{label} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  {'page':<38} {'median ms':>10} {'CPU ms':>7} {'SQL ms':>7} {'queries':>8} {'vs 50 ms':>9}")
    results = {}
    for name, url in pages.items():
        ms, cpu, sql, n = measure(client, url, repeat)
        results[name] = ms
        print(f"  {name:<38} {ms:>10.1f} {cpu:>7.1f} {sql:>7.1f} {n:>8} {ms / TARGET_MS:>8.2f}x", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    parser.add_argument("--candidates", action="store_true", help="also time candidate indexes")
    parser.add_argument("--old-way", action="store_true", help="also time the previous query (slow at 1 M)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time a database a --keep run loaded (no load; kept)")
    args = parser.parse_args()

    if args.reuse and not args.reuse.startswith("screentest_bench_gallery_"):
        parser.error("--reuse takes a screentest_bench_gallery_<pid> database")
    name = args.reuse or f"screentest_bench_gallery_{os.getpid()}"
    args.keep = args.keep or bool(args.reuse)
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True)
    if not args.reuse:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            DATABASE_URL=f"{SERVER}/{name}",
            DJANGO_SETTINGS_MODULE="webapp.settings",
            DB_CONN_MAX_AGE="0",
            DATA_DIR=os.environ.get("DATA_DIR", "/tmp/screentest-bench"),
        )
        os.environ.pop("REDIS_URL", None)
        import django
        from django.core.management import call_command

        django.setup()
        from django.conf import settings
        from django.test import Client
        from django.test.utils import setup_test_environment

        settings.ALLOWED_HOSTS = ["testserver"]
        # No collectstatic here: plain static URLs (the manifest lookup is a dict hit in production).
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        setup_test_environment()
        call_command("migrate", verbosity=0)
        if args.keep:
            print(f"database {name} is kept: drop it with DROP DATABASE when done")
        if not args.reuse:
            with psycopg.connect(f"{SERVER}/{name}") as conn:
                started = time.perf_counter()
                load(conn, args.prompts, args.models)
                print(f"COPY + VACUUM ANALYZE took {time.perf_counter() - started:.1f} s", flush=True)
        client = Client()
        from webapp.gallery.services import search

        last = -(-min(args.prompts, search.MAX_RESULTS) // 12)  # the deepest page the gallery serves
        since = (datetime.now(UTC) - timedelta(days=5 * 365)).date()
        until = since + timedelta(days=182)
        pages = {
            "first page": "/",
            f"deepest page ({last})": f"/?page={last}",
            "search 'fox' (~40% of prompts)": "/?q=fox",
            f"search 'fox', page {last}": f"/?q=fox&page={last}",
            "search 'storms' (stemmed)": "/?q=storms",
            f"search '{RARE_WORD}' (~0.1%)": f"/?q={RARE_WORD}",
            "search + model + category + status": "/?q=fox&model=model-3&category=scenery&status=complete",
            "search + filters, page 5": "/?q=fox&model=model-3&category=scenery&status=complete&page=5",
            "model + has_failures": "/?model=model-3&status=has_failures",
            "category, page 500": "/?category=scenery&page=500",
            "half a year, 5 years back": f"/?since={since}&until={until}",
        }
        baseline = report(client, pages, args.repeat, "as migrated")
        from django.db import connection

        if args.old_way:
            # What the gallery did before: ILIKE over the text, COUNT(*) over every match,
            # OFFSET pages to the end. Fewer repeats: these pages take seconds at a million.
            old = {"first page": "/", "search 'fox'": "/?q=fox", f"search '{RARE_WORD}'": f"/?q={RARE_WORD}"}
            old[f"deepest page ({args.prompts // 12})"] = f"/?page={args.prompts // 12}"
            search.matching_text = lambda qs, text: qs.filter(text__icontains=text)  # type: ignore[assignment]
            search.MAX_RESULTS = 10**12
            report(client, old, 3, "the previous gallery query (ILIKE, COUNT(*) of every match, unbounded OFFSET)")
        for label, sql in CANDIDATE_INDEXES.items() if args.candidates else ():
            with connection.cursor() as cur:
                cur.execute(sql)
                cur.execute("ANALYZE studio_prompt")
            with_index = report(
                client, pages, args.repeat, f"plus candidate index: {label} (scratch DB only; indexes accumulate)"
            )
            gains = ", ".join(f"{k}: {baseline[k] / v:.2f}x" for k, v in with_index.items())
            print(f"  speed-up vs as migrated: {gains}")
        connection.close()
    finally:
        if not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
