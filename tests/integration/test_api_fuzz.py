"""Schema-driven fuzzing of the JSON API (issue 12, item 7) against the real stack: gunicorn
(DEBUG off, collected static files) on PostgreSQL and Redis, an arena with clips, battles,
votes and a computed board. Every answer: no 5xx, documented status and content type, a body
matching webapp/core/openapi.json.

CI runs a small pass (API_FUZZ_EXAMPLES cases per operation and mode, default 30, at most
API_FUZZ_TIME_LIMIT_S, default 90 s); benchmarks/api_fuzz.py runs >= 10,000 requests through
this same test (API_FUZZ_TARGET_REQUESTS)."""

import os

import pytest
from django.utils import timezone

from tests import api_fuzz
from webapp.arena.models import Battle, Vote, Winner
from webapp.arena.services import board

pytestmark = pytest.mark.integration


def arena_with_a_board(make_clips, settings):
    settings.LEADERBOARD_MIN_VOTES = 1
    settings.RATING_BOOTSTRAP_ROUNDS = 50
    prompts = make_clips(prompts=4, category="animals")
    for n, prompt in enumerate(prompts):
        jobs = list(prompt.jobs.select_related("clip", "model"))
        battle = Battle.objects.create(
            prompt=prompt,
            left=jobs[0].clip,
            right=jobs[1].clip,
            pool=prompt.pool,
            voter_key=f"seed{n}",
            pair_key=f"seed{n}",
        )
        Vote.objects.create(
            battle=battle,
            model_a=jobs[0].model,
            model_b=jobs[1].model,
            winner=Winner.MODEL_A,
            pool=prompt.pool,
            category=prompt.category,
            voter_key=f"seed{n}",
            ip_hash="seed",
            created_at=timezone.now(),
        )
    board.recompute("official")
    board.recompute("official", "animals")


def test_fuzzing_the_api_finds_no_server_error_and_no_undocumented_answer(
    celery_procs, collected_static, make_clips, settings
):
    arena_with_a_board(make_clips, settings)
    # A worker prepares battles' renditions (queue arena), so votes meet ready battles too.
    celery_procs.worker("fuzz-arena@localhost", queues="arena,default", concurrency=1)
    # No cap on queued jobs: generated prompts pile up (nothing generates them), and the cap's
    # 503 is a capacity answer, not what this run looks for.
    base = celery_procs.web(collected_static, env={"MAX_QUEUED_JOBS": "0"})
    report = api_fuzz.run(
        base,
        examples_per_operation=int(os.environ.get("API_FUZZ_EXAMPLES", "30")),
        time_limit_s=float(os.environ.get("API_FUZZ_TIME_LIMIT_S", "90")),
        target_requests=int(os.environ.get("API_FUZZ_TARGET_REQUESTS", "0")),
    )
    print("\n" + report.summary())
    print("api-fuzz per operation: " + ", ".join(f"{op}: {n}" for op, n in sorted(report.by_operation.items())))
    assert report.requests >= 100, report.summary()
    assert report.server_errors == [], "\n".join(report.server_errors[:20])
    assert report.violations == [], "\n".join(report.violations[:20])
