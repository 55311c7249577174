import csv
import io
import json
from collections import Counter

import pytest
from django.core.management import CommandError
from django.test import RequestFactory

from tests.interop_support import (  # noqa: F401  (no_broker: an autouse fixture)
    RAW_IP_HASH,
    T0,
    arena,
    no_broker,
    run,
    small_boards,
)
from webapp.arena import api
from webapp.arena.management.commands import run_suite
from webapp.arena.models import RatingSnapshot, Vote, Winner
from webapp.arena.services import battle_export, board, leaderboard_export, suite
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS
from workers.ratings import style_control

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def test_export_json_is_fastchat_clean_battles_with_our_ids(arena):
    out, err = run("export_battles")
    records = json.loads(out)
    assert len(records) == 6 and "exported 6 votes" in err  # the excluded vote is left out
    assert all(list(r) == list(battle_export.EXPORT_FIELDS) for r in records)
    first = records[0]
    vote = arena["votes"][0]
    assert first["model_a"] == "demo-aurora" and first["model_b"] == "demo-lumen" and first["winner"] == "model_a"
    assert first["judge"] == "arena_user_" + vote.voter_key[:16]
    assert first["anony"] is True and first["turn"] == 1 and first["language"] == ""
    assert first["tstamp"] == T0.timestamp()
    assert first["vote_id"] == vote.pk and first["battle_id"] == battle_export.battle_ref(vote.battle.public_id)
    assert first["question_id"] == first["battle_id"] and vote.battle.public_id not in json.dumps(first)
    assert first["prompt"] == "A red fox in the snow"
    assert (first["pool"], first["category"], first["excluded_reason"], first["source"]) == (
        "official",
        "animals",
        "",
        "arena",
    )
    assert {r["winner"] for r in records} == set(Winner.values)
    community = [r for r in records if r["pool"] == "community"][0]
    assert community["battle_id"] is None and community["prompt"] is None
    assert community["question_id"] == f"vote-{community['vote_id']}"
    assert RAW_IP_HASH not in out and "ip" not in first


def test_export_carries_each_sides_clip_facts_sound_and_measurements(arena, tmp_path):
    vote = arena["votes"][0]
    left, right = vote.battle.left, vote.battle.right
    Clip.objects.filter(pk=left.pk).update(
        measurements={**dict.fromkeys(METRIC_KEYS, 0.5), "flicker": 0.97, "scene_cuts": 2.0},
        measurements_version=MEASUREMENTS_VERSION,
        audio={"has_audio": True, "loudness_lufs": -23.5, "true_peak_dbtp": -1.0, "silence_share": 0.1},
    )
    records = json.loads(run("export_battles")[0])
    first = next(r for r in records if r["vote_id"] == vote.pk)
    assert first["clip_a_flicker"] == 0.97 and first["clip_a_scene_cuts"] == 2.0
    assert first["clip_a_measurements_version"] == MEASUREMENTS_VERSION and first["clip_a_loudness_lufs"] == -23.5
    assert (first["clip_a_width"], first["clip_a_height"]) == (left.width, left.height)
    assert first["clip_b_duration_s"] == right.duration_s
    # The right clip was never measured: its metrics are null, not zero.
    assert first["clip_b_measurements_version"] == 0 and first["clip_b_flicker"] is None
    community = next(r for r in records if r["pool"] == "community")  # no battle: no clips
    assert all(community[f] is None for f in battle_export.SIDE_FIELDS)
    target = tmp_path / "battles.csv"
    run("export_battles", "--format", "csv", "--output", str(target))
    row = next(r for r in csv.DictReader(target.open(newline="")) if r["vote_id"] == str(vote.pk))
    assert float(row["clip_a_flicker"]) == 0.97 and row["clip_b_flicker"] == ""


def test_export_filters_by_pool_and_can_include_excluded(arena):
    official = json.loads(run("export_battles", "--pool", "official")[0])
    assert {r["pool"] for r in official} == {"official"} and len(official) == 5
    everything = json.loads(run("export_battles", "--include-excluded")[0])
    assert len(everything) == 7
    assert [r["excluded_reason"] for r in everything if r["excluded_reason"]] == ["saw_named_results"]


def test_export_csv_has_a_header_and_the_same_keys(arena, tmp_path):
    target = tmp_path / "battles.csv"
    run("export_battles", "--format", "csv", "--output", str(target))
    rows = list(csv.DictReader(target.open(newline="")))
    assert len(rows) == 6
    assert tuple(rows[0]) == battle_export.EXPORT_FIELDS
    assert rows[0]["winner"] == "model_a" and rows[0]["anony"] == "true" and rows[0]["turn"] == "1"
    assert rows[0]["judge"].startswith("arena_user_")
    assert {r["winner"] for r in rows} == set(Winner.values)
    assert RAW_IP_HASH not in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["battles.csv"]  # no temporary file left


def test_export_of_nothing_is_an_empty_array(db):
    assert json.loads(run("export_battles")[0]) == []
    assert run("export_battles", "--format", "csv")[0].strip() == ",".join(battle_export.EXPORT_FIELDS)


# --------------------------------------------------------------------------------------------
# Leaderboard export and recompute
# --------------------------------------------------------------------------------------------


def test_export_leaderboard_json_and_csv(arena, small_boards, tmp_path):
    out, err = run("export_leaderboard")
    assert "computed a leaderboard for official/all" in err  # no snapshot yet
    doc = json.loads(out)
    assert (doc["pool"], doc["category"], doc["votes_counted"], doc["bootstrap_rounds"]) == ("official", "", 5, 20)
    assert [m["model"] for m in doc["models"]] and set(doc["models"][0]) == set(leaderboard_export.LEADERBOARD_FIELDS)
    assert {m["model"] for m in doc["models"]} == {"demo-aurora", "demo-lumen", "demo-pixel"}
    assert RatingSnapshot.objects.count() == 1
    target = tmp_path / "board.csv"
    _, err = run("export_leaderboard", "--format", "csv", "--output", str(target))
    assert err == "" and RatingSnapshot.objects.count() == 1  # reused the latest snapshot
    rows = list(csv.DictReader(target.open(newline="")))
    assert tuple(rows[0]) == leaderboard_export.LEADERBOARD_FIELDS and len(rows) == 3
    assert rows[0]["rank_ub"] == "1"
    run("export_leaderboard", "--recompute", "--category", "animals")
    assert RatingSnapshot.objects.filter(category="animals").count() == 1


def test_recompute_ratings_reports_what_it_computed(arena, small_boards):
    out, _ = run("recompute_ratings")
    assert "official/all: 5 votes, 3 models listed" in out and "official/animals: 5 votes" in out
    assert "community/all: 1 votes" in out and "3 leaderboards computed" in out
    out, _ = run("recompute_ratings", "--pool", "official", "--category", "", "--rounds", "5")
    assert "official/all: 5 votes, 3 models listed, 5 rounds" in out and "1 leaderboards computed" in out


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_api_export_battles_json_and_csv(arena):
    rf = RequestFactory()
    response = api.export_battles(rf.get("/api/v1/battles", {"pool": "official"}))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    records = json.loads(body(response))
    assert len(records) == 5 and RAW_IP_HASH.encode() not in body(api.export_battles(rf.get("/x")))
    response = api.export_battles(rf.get("/x", {"format": "csv"}))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="screentest-battles-all-')
    assert len(list(csv.DictReader(io.StringIO(body(response).decode())))) == 6


@pytest.mark.parametrize("params, code", [({"format": "xml"}, "invalid_format"), ({"pool": "secret"}, "invalid_pool")])
def test_api_export_battles_rejects_bad_params(db, params, code):
    response = api.export_battles(RequestFactory().get("/x", params))
    assert response.status_code == 400 and json.loads(response.content)["error"]["code"] == code


def test_api_export_battles_is_get_only(db):
    response = api.export_battles(RequestFactory().post("/x"))
    assert response.status_code == 405 and json.loads(response.content)["error"]["code"] == "method_not_allowed"


def test_api_leaderboard(arena, small_boards):
    rf = RequestFactory()
    missing = api.leaderboard(rf.get("/x"))
    assert missing.status_code == 404 and json.loads(missing.content)["error"]["code"] == "no_leaderboard"
    run("recompute_ratings", "--pool", "official")
    doc = json.loads(api.leaderboard(rf.get("/x", {"pool": "official"})).content)
    assert set(doc) == {"pool", "category", "computed_at", "votes_counted", "bootstrap_rounds", "models", "controlled"}
    assert len(doc["models"]) == 3 and doc["votes_counted"] == 5
    animals = json.loads(api.leaderboard(rf.get("/x", {"category": "animals"})).content)
    assert animals["category"] == "animals"
    response = api.leaderboard(rf.get("/x", {"format": "csv", "category": "animals"}))
    assert response["Content-Disposition"].startswith('attachment; filename="screentest-leaderboard-official-animals-')
    assert response.content.decode().splitlines()[0] == ",".join(leaderboard_export.LEADERBOARD_FIELDS)
    for params, code in [
        ({"pool": "x"}, "invalid_pool"),
        ({"format": "pdf"}, "invalid_format"),
        ({"category": "x" * 49}, "invalid_category"),
    ]:
        response = api.leaderboard(rf.get("/x", params))
        assert response.status_code == 400 and json.loads(response.content)["error"]["code"] == code


def test_api_leaderboard_carries_the_controlled_board_and_its_covariates(arena, small_boards, client):
    board.recompute("official")
    snapshot = RatingSnapshot.objects.get(pool="official", category="")
    doc = client.get("/api/v1/leaderboard").json()
    controlled, computed = doc["controlled"], snapshot.analysis["controlled"]
    assert (controlled["votes"], controlled["interval"]) == (computed["votes"], "sandwich") and controlled["votes"] > 0
    assert [m["model"] for m in controlled["models"]] == [r["model"] for r in computed["rows"]]
    assert {m["model"] for m in controlled["models"]} == {m["model"] for m in doc["models"]}
    first, stored = controlled["models"][0], computed["rows"][0]
    assert tuple(first) == leaderboard_export.CONTROLLED_FIELDS
    assert (first["score"], first["lower"], first["upper"]) == (stored["score"], stored["lower"], stored["upper"])
    assert [c["name"] for c in controlled["covariates"]] == [c.name for c in style_control.COVARIATES]
    assert all(tuple(c) == leaderboard_export.COVARIATE_FIELDS for c in controlled["covariates"])
    # A snapshot computed before the controlled board existed answers null, not an error.
    RatingSnapshot.objects.filter(pk=snapshot.pk).update(analysis={})
    assert client.get("/api/v1/leaderboard").json()["controlled"] is None


def test_wired_urls_export_battles_csv(arena, client):
    response = client.get("/api/v1/battles/export", {"format": "csv", "pool": "official"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="screentest-battles-official-')
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert (
        len(rows) == 5 and {r["pool"] for r in rows} == {"official"} and tuple(rows[0]) == battle_export.EXPORT_FIELDS
    )


def test_the_export_api_is_paged_with_a_cap_and_a_next_link(arena, client, django_assert_max_num_queries):
    """A page holds at most `limit` records (5000 at most): no request reads every vote."""
    seen, url, pages = [], "/api/v1/battles/export?limit=2", 0
    while url:
        with django_assert_max_num_queries(4):
            response = client.get(url)
        assert response.status_code == 200
        page = json.loads(body(response))
        assert len(page) <= 2
        seen += [r["vote_id"] for r in page]
        link = response.get("Link", "")
        url = link[1 : link.index(">")] if link else ""
        pages += 1
    counted = Vote.objects.filter(excluded_reason="").order_by("id")
    assert seen == list(counted.values_list("id", flat=True)) and pages == 3
    too_many = client.get("/api/v1/battles/export?limit=5001")
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "invalid_limit"
    assert client.get("/api/v1/battles/export?after=-1").json()["error"]["code"] == "invalid_after"
    assert client.get(f"/api/v1/battles/export?after={2**63 - 1}").json() == []  # the largest cursor is taken


def test_wired_urls_leaderboard(arena, small_boards, client):
    missing = client.get("/api/v1/leaderboard", {"pool": "official"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_leaderboard"
    board.recompute("official")
    response = client.get("/api/v1/leaderboard", {"pool": "official"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    doc = response.json()
    assert (doc["pool"], doc["votes_counted"], len(doc["models"])) == ("official", 5, 3)
    bogus = client.get("/api/v1/leaderboard", {"pool": "bogus"})
    assert bogus.status_code == 400 and bogus.json()["error"]["code"] == "invalid_pool"


# --------------------------------------------------------------------------------------------
# Prompt suite
# --------------------------------------------------------------------------------------------

CATEGORIES = {
    "animals",
    "architecture",
    "food",
    "human",
    "lifestyle",
    "plants",
    "scenery",
    "vehicles",
    "physics",
    "human_motion",
    "camera_motion",
    "long_range_consistency",
}


def test_the_shipped_suite():
    settings, prompts = suite.load_suite()
    assert settings == {"duration_s": 4, "aspect_ratio": "16:9"}
    per_category = Counter(p["category"] for p in prompts)
    assert set(per_category) == CATEGORIES and min(per_category.values()) >= 4 and len(prompts) >= 48
    assert len({p["text"] for p in prompts}) == len({p["id"] for p in prompts}) == len(prompts)
    assert all(isinstance(p["seed"], int) for p in prompts)
    assert all(20 <= len(p["text"]) <= 1000 for p in prompts)


def suite_size():
    return len(suite.load_suite()[1])


def test_dry_run_prints_the_estimate_and_submits_nothing(demo_models):
    out, err = run("run_suite", "--dry-run")
    n = suite_size()
    assert f"{n} suite prompts × 3 models" in out
    assert f"estimated cost: $0.00 for {3 * n} jobs" in out and "dry run: nothing submitted" in out
    assert not Prompt.objects.exists() and not GenerationJob.objects.exists()


def test_run_with_demo_models_creates_official_suite_prompts(demo_models, no_broker):
    out, err = run("run_suite", "--yes", "--no-wait")
    n = suite_size()
    assert f"submitted {3 * n} jobs for {n} suite prompts" in out
    assert f"[{'#' * 30}] {n}/{n} prompts submitted" in err
    prompts = Prompt.objects.all()
    assert prompts.count() == n
    assert set(prompts.values_list("pool", flat=True)) == {"official"}
    assert set(prompts.values_list("source", flat=True)) == {"suite"}
    _, entries = suite.load_suite()
    expected = {p["text"]: (p["category"], p["seed"]) for p in entries}
    assert {p.text: (p.category, p.seed) for p in prompts} == expected
    assert all(p.duration_s == 4 and p.aspect_ratio == "16:9" for p in prompts)
    assert GenerationJob.objects.count() == 3 * n
    assert all(
        sorted(p.jobs.values_list("model__slug", flat=True)) == ["demo-aurora", "demo-lumen", "demo-pixel"]
        for p in prompts
    )
    # re-running pays for nothing twice
    out, _ = run("run_suite", "--yes", "--no-wait")
    assert "nothing to submit" in out
    assert Prompt.objects.count() == n and GenerationJob.objects.count() == 3 * n


def test_a_model_added_later_joins_the_existing_suite_prompts(demo_models):
    run("run_suite", "--models", "demo-aurora,demo-lumen", "--categories", "physics,food", "--yes", "--no-wait")
    prompts = Prompt.objects.count()
    out, _ = run("run_suite", "--categories", "physics,food", "--yes", "--no-wait")
    assert "(" in out and "already ran, skipped" in out
    assert Prompt.objects.count() == prompts
    assert all(p.jobs.count() == 3 for p in Prompt.objects.all())
    assert set(Prompt.objects.values_list("category", flat=True)) == {"physics", "food"}


def test_over_budget_without_yes_and_no_tty_refuses(demo_models):
    VideoModel.objects.create(
        slug="pricey",
        display_name="Pricey",
        vendor="V",
        backend_key="demo",
        backend_params={"price_per_second_usd": 0.5},
    )
    with pytest.raises(CommandError, match="over the budget .* no terminal"):
        run("run_suite", "--models", "pricey,demo-aurora", "--no-wait", stdin=io.StringIO("y\n"))
    assert not Prompt.objects.exists()
    out, _ = run("run_suite", "--models", "pricey", "--limit", "2", "--no-wait", stdin=io.StringIO(""))
    assert "estimated cost: $4.00 for 2 jobs" in out and Prompt.objects.count() == 2  # within budget


def test_unknown_price_counts_as_unknown_and_needs_confirmation(demo_models):
    VideoModel.objects.create(  # a vendor model with no price in its entry
        slug="mystery", display_name="Mystery", vendor="V", backend_key="luma", backend_params={"vendor_model": "ray-2"}
    )
    with pytest.raises(CommandError, match="cost of some jobs is unknown"):
        run("run_suite", "--models", "mystery,demo-aurora", "--limit", "3", stdin=io.StringIO(""))
    out, _ = run("run_suite", "--models", "mystery,demo-aurora", "--limit", "3", "--dry-run")
    assert "mystery" in out and "unknown (no price_per_second_usd)" in out
    assert "estimated cost: $0.00 for 3 jobs + unknown for 3 jobs on models without a price (mystery)" in out


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_confirmation_on_a_terminal(demo_models):
    VideoModel.objects.create(
        slug="pricey",
        display_name="Pricey",
        vendor="V",
        backend_key="demo",
        backend_params={"price_per_second_usd": 10},
    )
    out, err = run("run_suite", "--models", "pricey", "--limit", "1", "--no-wait", stdin=Terminal("n\n"))
    assert "Proceed? [y/N]" in err and "cancelled" in out and not Prompt.objects.exists()
    out, _ = run("run_suite", "--models", "pricey", "--limit", "1", "--no-wait", stdin=Terminal("y\n"))
    assert "submitted 1 jobs" in out and Prompt.objects.count() == 1


def test_waits_for_the_jobs_with_a_progress_bar(demo_models, monkeypatch):
    def worker_step(seconds):  # each poll, one more job finishes; the second one fails
        job = GenerationJob.objects.filter(state=JobState.QUEUED).order_by("pk").first()
        state = (
            JobState.FAILED if GenerationJob.objects.exclude(state=JobState.QUEUED).count() == 1 else JobState.SUCCEEDED
        )
        GenerationJob.objects.filter(pk=job.pk).update(state=state)

    monkeypatch.setattr(run_suite.time, "sleep", worker_step)
    out, err = run("run_suite", "--limit", "1", "--yes")
    assert f"[{'#' * 10}{'.' * 20}] 1/3 jobs done" in err
    assert f"[{'#' * 30}] 3/3 jobs done, 1 failed" in err
    assert "all 3 jobs finished: 2 succeeded, 1 failed" in out


def test_bad_options(demo_models):
    with pytest.raises(CommandError, match="unknown model: nope"):
        run("run_suite", "--models", "nope", "--dry-run")
    with pytest.raises(CommandError, match="unknown category: cooking"):
        run("run_suite", "--categories", "cooking", "--dry-run")
    VideoModel.objects.filter(slug="demo-pixel").update(enabled=False)
    with pytest.raises(CommandError, match="disabled"):
        run("run_suite", "--models", "demo-pixel", "--dry-run")
