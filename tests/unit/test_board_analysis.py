"""The board's analyses (services/analysis.py) from real rows: the controlled board, the
agreement of measurements with the votes and the per-prompt boards, computed in the ratings
recompute and shown on the leaderboard, /leaderboard/agreement and /leaderboard/prompts.

The arena: three demo models, equally good, whose clips differ in length -- aurora's are
longer on average -- and voters who prefer the longer clip. The raw board puts aurora first;
the controlled board, which knows the lengths, must not, and must find the length effect.
"""

import csv
import io
import json
import math

import numpy as np
import pytest
from django.utils import timezone

from webapp.arena.models import Battle, Vote, Winner
from webapp.arena.services import battle_export, battle_import, board
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

pytestmark = pytest.mark.django_db

PROMPTS = 6
VOTES_PER_PROMPT = 120


def make_clip(prompt, model, duration, sharpness):
    job = GenerationJob.objects.create(prompt=prompt, model=model, state=JobState.SUCCEEDED)
    return Clip.objects.create(
        job=job,
        original="originals/x.mp4",
        web="clips/x.mp4",
        poster="posters/x.jpg",
        sha256_original="0" * 64,
        sha256_web="1" * 64,
        duration_s=duration,
        width=640,
        height=360,
        fps=24,
        codec="h264",
        bytes=1000,
        original_bytes=1000,
        measurements={
            "motion_mean": duration * 3.0,
            "smoothness_error": 10.0 - duration,  # an error: the longer (winning) clip has less
            "sharpness": sharpness,
            "broken": None,
        },
        measurements_version=1,
    )


@pytest.fixture
def length_swayed_arena(demo_models, settings):
    settings.LEADERBOARD_MIN_VOTES = 5
    settings.LEADERBOARD_PRELIMINARY_BELOW = 0
    settings.RATING_BOOTSTRAP_ROUNDS = 50
    rng = np.random.default_rng(4)
    aurora, lumen, pixel = sorted(demo_models, key=lambda m: m.slug)
    battles, votes = [], []
    for n in range(PROMPTS):
        prompt = Prompt.objects.create(
            text=f"a kite number {n}", seed=n, duration_s=4, aspect_ratio="16:9", pool="official", category="sky"
        )
        clips = [
            make_clip(prompt, aurora, float(rng.uniform(4, 8)), float(rng.uniform(1, 9))),
            make_clip(prompt, lumen, float(rng.uniform(2, 6)), float(rng.uniform(1, 9))),
            make_clip(prompt, pixel, float(rng.uniform(2, 6)), float(rng.uniform(1, 9))),
        ]
        for k in range(VOTES_PER_PROMPT):
            i, j = rng.choice(3, 2, replace=False)
            left, right = clips[i], clips[j]
            rel = (left.duration_s - right.duration_s) / (left.duration_s + right.duration_s)
            p = 1.0 / (1.0 + math.exp(-12.0 * rel))  # only the length decides
            winner = Winner.MODEL_A if rng.random() < p else Winner.MODEL_B
            battle = Battle(prompt=prompt, left=left, right=right, pool="official", voter_key=f"v{n}-{k}")
            battle.pair_key = f"p{n}-{k}"
            battles.append(battle)
            votes.append((battle, left.job.model, right.job.model, winner))
    Battle.objects.bulk_create(battles)
    now = timezone.now()
    Vote.objects.bulk_create(
        Vote(
            battle=battle,
            model_a=ma,
            model_b=mb,
            winner=w,
            pool="official",
            category="sky",
            voter_key="v",
            created_at=now,
        )
        for battle, ma, mb, w in votes
    )
    return aurora, lumen, pixel


def test_the_controlled_board_removes_a_length_advantage_that_the_raw_board_rewards(length_swayed_arena):
    aurora, lumen, pixel = length_swayed_arena
    snapshot = board.recompute("official")
    raw = {r["model"]: r for r in snapshot.rows}
    controlled = snapshot.analysis["controlled"]
    fitted = {r["model"]: r for r in controlled["rows"]}
    assert snapshot.rows[0]["model"] == aurora.slug
    assert raw[aurora.slug]["lower"] > max(raw[lumen.slug]["upper"], raw[pixel.slug]["upper"])
    # all else equal, aurora is no better: its controlled interval overlaps the others' and
    # its lead shrinks to a fraction of the raw one
    raw_lead = raw[aurora.slug]["score"] - raw[lumen.slug]["score"]
    controlled_lead = fitted[aurora.slug]["score"] - fitted[lumen.slug]["score"]
    assert abs(controlled_lead) < 0.4 * raw_lead
    assert fitted[aurora.slug]["lower"] < fitted[lumen.slug]["upper"]
    coefs = {c["name"]: c for c in controlled["coefficients"]}
    assert coefs["duration"]["lower"] > 0.3 and "longer clips" in coefs["duration"]["effect"]
    assert not coefs["fps"]["estimable"] and not coefs["pixels"]["estimable"]  # every clip 24 fps, 640x360
    assert controlled["votes"] == PROMPTS * VOTES_PER_PROMPT
    assert controlled["votes_all_known"] == PROMPTS * VOTES_PER_PROMPT  # silent clips: loudness not needed


def test_agreement_finds_the_measurement_voters_follow(length_swayed_arena):
    snapshot = board.recompute("official")
    rows = {r["metric"]: r for r in snapshot.analysis["agreement"]}
    assert {"motion_mean", "sharpness", "duration_s", "fps", "pixels"} <= set(rows)
    assert "broken" not in rows  # None values are not a metric
    motion, sharpness = rows["motion_mean"], rows["sharpness"]
    assert motion["accuracy"] > 0.75 and motion["lower"] > 0.7
    assert motion["kendall_tau"] == pytest.approx(1.0)  # aurora: longest clips, most motion, top of the board
    # sharpness is drawn independently of length, but over only 18 clips it correlates with
    # it by chance, so its accuracy need not be 0.5 -- only far below motion's
    assert sharpness["accuracy"] < motion["lower"] - 0.1
    assert rows["fps"]["battles"] == 0 and rows["fps"]["accuracy"] is None  # never differs
    # An error measurement prefers the lower value: voters following it agree, not disagree.
    error = rows["smoothness_error"]
    assert error["prefers"] == "lower" and motion["prefers"] == "higher"
    assert error["accuracy"] == pytest.approx(motion["accuracy"]) and error["kendall_tau"] == pytest.approx(1.0)


def test_per_prompt_boards_and_the_prompts_that_separate_the_top_two(length_swayed_arena):
    snapshot = board.recompute("official")
    prompts = snapshot.analysis["prompts"]
    assert len(prompts["boards"]) == PROMPTS
    assert all(sum(r["votes"] for r in b["rows"]) == 2 * b["votes"] for b in prompts["boards"])
    assert all(r["lower"] <= r["score"] <= r["upper"] for b in prompts["boards"] for r in b["rows"])
    assert prompts["top_two"] == [r["model"] for r in snapshot.rows[:2]]
    decided = [s["decided"] for s in prompts["separating"]]
    assert decided == sorted(decided, reverse=True) and len(decided) == PROMPTS
    for s in prompts["separating"]:
        assert s["lower"] <= s["gap"] <= s["upper"]
        assert s["decided"] == pytest.approx(max(s["lower"], -s["upper"]))


def test_the_pages_show_the_analyses_and_export_the_agreement(client, length_swayed_arena):
    board.recompute("official")
    page = client.get("/leaderboard").content.decode()
    assert "data-controlled-board" in page and "data-coefficients" in page and "longer clips" in page
    assert "data-separating-prompts" in page and "a kite number" in page

    agreement = client.get("/leaderboard/agreement")
    assert agreement.status_code == 200 and b"motion_mean" in agreement.content
    document = json.loads(client.get("/leaderboard/agreement?format=json").content)
    assert document["pool"] == "official" and {m["metric"] for m in document["metrics"]} >= {"motion_mean"}
    exported = list(csv.DictReader(io.StringIO(client.get("/leaderboard/agreement?format=csv").content.decode())))
    by_metric = {row["metric"]: row for row in exported}
    assert float(by_metric["motion_mean"]["accuracy"]) == pytest.approx(
        next(m["accuracy"] for m in document["metrics"] if m["metric"] == "motion_mean")
    )
    assert by_metric["fps"]["accuracy"] == ""
    assert client.get("/leaderboard/agreement?format=xml").status_code == 400

    boards = client.get("/leaderboard/prompts").content.decode()
    assert boards.count("data-prompt-board") == PROMPTS


def test_pages_before_any_board_and_votes_without_clips(client, demo_models):
    assert client.get("/leaderboard/agreement").status_code == 200
    assert client.get("/leaderboard/agreement?format=json").status_code == 404
    assert client.get("/leaderboard/prompts").status_code == 200
    aurora, lumen, _ = demo_models
    Vote.objects.bulk_create(
        Vote(model_a=aurora, model_b=lumen, winner=Winner.MODEL_A, pool="official", voter_key="v", created_at=t)
        for t in [timezone.now()] * 12
    )  # imported-style votes: no battle, so no clips and no prompt
    snapshot = board.recompute("official")
    assert snapshot.rows and snapshot.analysis["controlled"]["rows"] == []
    assert snapshot.analysis["agreement"] == [] and snapshot.analysis["prompts"]["boards"] == []
    assert client.get("/leaderboard").status_code == 200


def imported_length_swayed_records(n: int, rng) -> list[dict]:
    """Votes between three equally good models where only the longer clip wins, alpha's clips
    being the longest, described with the battle export's clip columns."""
    records = []
    for i in range(n):
        a, b = rng.choice(["alpha", "beta", "gamma"], 2, replace=False)
        da, db = (float(rng.uniform(6, 10)) if m == "alpha" else float(rng.uniform(2, 7)) for m in (a, b))
        p = 1.0 / (1.0 + math.exp(-12.0 * (da - db) / (da + db)))
        records.append(
            {
                "question_id": f"sim-{i}",
                "model_a": a,
                "model_b": b,
                "winner": "model_a" if rng.random() < p else "model_b",
                "clip_a_duration_s": da,
                "clip_b_duration_s": db,
                "clip_a_width": 1280,
                "clip_a_height": 720,
                "clip_b_width": 1280,
                "clip_b_height": 720,
                "clip_a_motion_mean": da * 3.0,
                "clip_b_motion_mean": db * 3.0,
            }
        )
    return records


def test_imported_votes_with_clip_columns_join_the_controlled_board_and_export_them_again(db, settings, tmp_path):
    settings.LEADERBOARD_MIN_VOTES = 5
    settings.LEADERBOARD_PRELIMINARY_BELOW = 0
    settings.RATING_BOOTSTRAP_ROUNDS = 50
    records = imported_length_swayed_records(1500, np.random.default_rng(11))
    records.append({"question_id": "plain", "model_a": "beta", "model_b": "gamma", "winner": "tie"})  # no clips
    path = tmp_path / "votes.json"
    path.write_text(json.dumps(records))
    assert battle_import.import_battles(path).created == 1501
    snapshot = board.recompute("official")
    raw = {r["model"]: r for r in snapshot.rows}
    controlled = snapshot.analysis["controlled"]
    fitted = {r["model"]: r for r in controlled["rows"]}
    assert snapshot.rows[0]["model"] == "alpha" and raw["alpha"]["lower"] > raw["beta"]["upper"]
    assert controlled["votes"] == 1500  # the record without clip columns cannot be controlled for
    coefs = {c["name"]: c for c in controlled["coefficients"]}
    assert coefs["duration"]["lower"] > 0.3
    raw_lead = raw["alpha"]["score"] - raw["beta"]["score"]
    assert abs(fitted["alpha"]["score"] - fitted["beta"]["score"]) < 0.4 * raw_lead
    motion = {r["metric"]: r for r in snapshot.analysis["agreement"]}["motion_mean"]
    assert motion["battles"] == 1500 and motion["accuracy"] > 0.75
    exported = {r["question_id"]: r for r in battle_export.battle_records(Vote.objects.all())}
    assert exported["sim-0"]["clip_a_duration_s"] == records[0]["clip_a_duration_s"]
    assert exported["plain"]["clip_a_duration_s"] is None


@pytest.mark.parametrize(
    "column, value",
    [("clip_a_duration_s", "long"), ("clip_b_fps", float("nan")), ("clip_a_has_audio", 1), ("clip_b_width", True)],
)
def test_an_imported_clip_column_that_is_not_a_number_is_refused_by_name(tmp_path, column, value, db):
    path = tmp_path / "votes.jsonl"
    record = {"model_a": "alpha", "model_b": "beta", "winner": "model_a", column: value}
    path.write_text(json.dumps(record))
    report = battle_import.import_battles(path)
    assert report.created == 0 and column in str(report.errors[0])
