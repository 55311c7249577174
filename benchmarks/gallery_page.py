"""Gallery page server time with 10,000 prompts x 6 models, against the 50 ms target.

Run: .venv/bin/python benchmarks/gallery_page.py [--prompts 10000] [--repeat 15] [--keep]

Creates its own scratch PostgreSQL database (screentest_bench_gallery_<pid>) on
BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432; the `postgres`
database is used only to issue CREATE / DROP DATABASE), migrates it, loads 6 models,
10,000 prompts, 60,000 jobs and ~54,000 clips with COPY, then times the gallery view
through Django's test client (the whole server side: URL resolution, form, queries, template;
no network, no browser). Reported: median over --repeat requests after 3 warm-ups, the
number of SQL queries, and the ratio to the 50 ms target (< 1 is within target). Then the
same pages with candidate indexes on studio's tables created in the scratch database only,
to show which one would be worth a studio migration. The database is dropped at the end.
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
CANDIDATE_INDEXES = {
    "prompt (created_at, id)": "CREATE INDEX bench_prompt_created_id ON studio_prompt (created_at DESC, id DESC)",
    "pg_trgm on prompt text": "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "CREATE INDEX bench_prompt_text_trgm ON studio_prompt USING gin (text gin_trgm_ops)",
}


def copy_rows(cur, table: str, columns: list[str], rows) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(conn, prompts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with conn.cursor() as cur:
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
                (i, f"model-{i}", f"Model {i}", "Bench", "demo", "{}", "", True, True, True, 10, "[]", now)
                for i in range(1, 7)
            ],
        )
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
            [
                (
                    p,
                    f"p{p:08d}",
                    " ".join(rng.choices(WORDS, k=rng.randint(6, 24))),
                    "",
                    p,
                    4.0,
                    "16:9",
                    "web",
                    "community",
                    rng.choice(CATEGORIES),
                    "allowed",
                    now - timedelta(minutes=7 * p),
                )
                for p in range(1, prompts + 1)
            ],
        )
        jobs, clips = [], []
        for p in range(1, prompts + 1):
            created = now - timedelta(minutes=7 * p)
            for m in range(1, 7):
                job_id = (p - 1) * 6 + m
                state = rng.choice(STATES)
                jobs.append(
                    (
                        job_id,
                        p,
                        m,
                        state,
                        1,
                        1,
                        "",
                        None,
                        "",
                        "{}",
                        "",
                        created,
                        created,
                        created,
                        created + timedelta(seconds=rng.uniform(20, 200)),
                        "",
                        "",
                    )
                )
                if state == "succeeded":
                    name = f"{job_id:024d}"
                    clips.append(
                        (
                            job_id,
                            job_id,
                            f"c{job_id:010d}",
                            f"originals/{name}.mp4",
                            f"clips/{name}.mp4",
                            f"posters/{name}.jpg",
                            "0" * 64,
                            "0" * 64,
                            4.0,
                            512,
                            288,
                            24.0,
                            "h264",
                            100000,
                            100000,
                            "h264",
                            False,
                            "{}",
                            created,
                        )
                    )
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
            ],
            jobs,
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
            ],
            clips,
        )
        for table in ("catalog_videomodel", "studio_prompt", "studio_generationjob", "studio_clip"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    with conn.cursor() as cur:
        conn.autocommit = True
        cur.execute("ANALYZE")
    print(f"loaded {prompts} prompts, {len(jobs)} jobs, {len(clips)} clips")


def measure(client, url: str, repeat: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), len(queries)


def report(client, pages: dict[str, str], repeat: int, label: str) -> dict[str, float]:
    print(f"\n{label}")
    print(f"  {'page':<34} {'median ms':>10} {'queries':>8} {'vs 50 ms':>9}")
    results = {}
    for name, url in pages.items():
        ms, n = measure(client, url, repeat)
        results[name] = ms
        print(f"  {name:<34} {ms:>10.1f} {n:>8} {ms / TARGET_MS:>8.2f}x")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    args = parser.parse_args()

    name = f"screentest_bench_gallery_{os.getpid()}"
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True)
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
        with psycopg.connect(f"{SERVER}/{name}") as conn:
            started = time.perf_counter()
            load(conn, args.prompts)
            print(f"COPY + ANALYZE took {time.perf_counter() - started:.1f} s")
        client = Client()
        deep = (args.prompts // 12) - 3
        pages = {
            "first page": "/",
            f"deep page ({deep})": f"/?page={deep}",
            "search + model + category + status": "/?q=fox&model=model-3&category=scenery&status=complete",
            "search + filters, page 5": "/?q=fox&model=model-3&category=scenery&status=complete&page=5",
        }
        baseline = report(client, pages, args.repeat, "as migrated (no extra index)")
        from django.db import connection

        for label, sql in CANDIDATE_INDEXES.items():
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
