"""Votes, clips and battles for the export and import tests (test_interop.py, test_battle_import.py)."""

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tests.conftest import record_sent
from webapp.arena.models import Battle, Vote, Winner
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

RAW_IP_HASH = "ip-hash-that-must-never-leave-the-database"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Submissions enqueue on commit; nothing may reach a broker."""
    sent = []
    record_sent(monkeypatch, lambda *a: sent.append(a))
    return sent


@pytest.fixture
def small_boards(settings):
    settings.LEADERBOARD_MIN_VOTES = 1
    settings.LEADERBOARD_PRELIMINARY_BELOW = 0
    settings.RATING_BOOTSTRAP_ROUNDS = 20


def make_clip(prompt, model):
    job = GenerationJob.objects.create(prompt=prompt, model=model, state=JobState.SUCCEEDED)
    return Clip.objects.create(
        job=job,
        original="originals/x.mp4",
        web="clips/x.mp4",
        poster="posters/x.jpg",
        sha256_original="0" * 64,
        sha256_web="1" * 64,
        duration_s=4,
        width=640,
        height=360,
        fps=24,
        codec="h264",
        bytes=1000,
        original_bytes=1000,
    )


@pytest.fixture
def arena(demo_models):
    """Official votes on one suite prompt (battles), a community vote, an excluded vote."""
    by_slug = {m.slug: m for m in demo_models}
    aurora, lumen, pixel = by_slug["demo-aurora"], by_slug["demo-lumen"], by_slug["demo-pixel"]
    prompt = Prompt.objects.create(
        text="A red fox in the snow",
        seed=1,
        duration_s=4,
        aspect_ratio="16:9",
        source=Prompt.Source.SUITE,
        pool=Prompt.Pool.OFFICIAL,
        category="animals",
    )
    clips = {m.slug: make_clip(prompt, m) for m in demo_models}
    votes = []
    plan = [
        ("demo-aurora", "demo-lumen", Winner.MODEL_A),
        ("demo-lumen", "demo-pixel", Winner.MODEL_A),
        ("demo-pixel", "demo-aurora", Winner.MODEL_B),
        ("demo-aurora", "demo-pixel", Winner.TIE),
        ("demo-lumen", "demo-aurora", Winner.BOTH_BAD),
    ]
    for n, (a, b, winner) in enumerate(plan):
        voter = f"{n:x}" * 40
        battle = Battle.objects.create(
            prompt=prompt,
            left=clips[a],
            right=clips[b],
            pair_key=f"{n}",
            voter_key=voter[:40],
            pool=Prompt.Pool.OFFICIAL,
        )
        votes.append(
            Vote.objects.create(
                battle=battle,
                model_a=by_slug[a],
                model_b=by_slug[b],
                winner=winner,
                pool=Prompt.Pool.OFFICIAL,
                category="animals",
                voter_key=voter[:40],
                ip_hash=RAW_IP_HASH,
                created_at=T0 + timedelta(minutes=n),
            )
        )
    votes.append(
        Vote.objects.create(
            model_a=aurora,
            model_b=pixel,
            winner=Winner.MODEL_A,
            pool=Prompt.Pool.COMMUNITY,
            voter_key="c" * 40,
            ip_hash=RAW_IP_HASH,
            created_at=T0,
        )
    )
    excluded = Vote.objects.create(
        model_a=lumen,
        model_b=pixel,
        winner=Winner.MODEL_B,
        pool=Prompt.Pool.OFFICIAL,
        voter_key="d" * 40,
        ip_hash=RAW_IP_HASH,
        created_at=T0,
        excluded_reason="saw_named_results",
    )
    return {"prompt": prompt, "votes": votes, "excluded": excluded, "models": by_slug}


def run(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def write(tmp_path, records, name="battles.json"):
    path = tmp_path / name
    path.write_text(records if isinstance(records, str) else json.dumps(records))
    return path


def record(a="Sora 2", b="Veo 3", winner="model_a", **extra):
    return {"model_a": a, "model_b": b, "winner": winner, **extra}


def tallies(votes):
    return Counter((v.model_a.slug, v.model_b.slug, v.winner) for v in votes.select_related("model_a", "model_b"))
