import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils import timezone

from tests.conftest import record_sent
from webapp.arena import api
from webapp.arena.management.commands import run_suite
from webapp.arena.models import Battle, RatingSnapshot, Vote, Winner
from webapp.arena.services import battle_export, battle_import, board, leaderboard_export, suite
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt

pytestmark = pytest.mark.django_db

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


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def test_export_json_is_fastchat_clean_battles_with_our_ids(arena):
    out, err = run("export_battles")
    records = json.loads(out)
    assert len(records) == 6 and "exported 6 votes" in err  # the excluded vote is left out
    assert all(list(r) == list(battle_export.BATTLE_FIELDS) for r in records)
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
    assert tuple(rows[0]) == battle_export.BATTLE_FIELDS
    assert rows[0]["winner"] == "model_a" and rows[0]["anony"] == "true" and rows[0]["turn"] == "1"
    assert rows[0]["judge"].startswith("arena_user_")
    assert {r["winner"] for r in rows} == set(Winner.values)
    assert RAW_IP_HASH not in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["battles.csv"]  # no temporary file left


def test_export_of_nothing_is_an_empty_array(db):
    assert json.loads(run("export_battles")[0]) == []
    assert run("export_battles", "--format", "csv")[0].strip() == ",".join(battle_export.BATTLE_FIELDS)


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


def test_import_creates_votes_and_disabled_models(demo_models, tmp_path):
    path = write(
        tmp_path,
        [
            record(winner="model_a", tstamp=1700000000.5, judge="arena_user_10.0.0.1", question_id="q1"),
            record("Veo 3", "Sora 2", "tie (bothbad)", question_id="q2"),
            record("Sora 2", "demo-aurora", "model_b", question_id="q3"),
        ],
    )
    out, _ = run("import_battles", str(path))
    assert "3 votes created" in out and "2 models created (sora-2, veo-3)" in out
    sora = VideoModel.objects.get(slug="sora-2")
    assert (sora.display_name, sora.vendor, sora.backend_key, sora.enabled, sora.in_arena) == (
        "Sora 2",
        "imported",
        "",
        False,
        True,
    )
    votes = Vote.objects.order_by("external_id")
    assert [(v.model_a.slug, v.model_b.slug, v.winner) for v in votes] == [
        ("sora-2", "veo-3", "model_a"),
        ("veo-3", "sora-2", "tie (bothbad)"),
        ("sora-2", "demo-aurora", "model_b"),
    ]
    first = votes[0]
    assert first.created_at == datetime.fromtimestamp(1700000000.5, tz=UTC)
    assert (first.source, first.pool, first.category, first.excluded_reason) == ("import", "official", "", "")
    assert len(first.voter_key) == 40 and "10.0.0.1" not in first.voter_key and not first.ip_hash
    assert votes[1].voter_key == "import"
    assert abs((votes[1].created_at - timezone.now()).total_seconds()) < 60
    assert VideoModel.objects.get(slug="demo-aurora").vendor == "Screentest demo"  # matched, not recreated


def test_reimport_creates_nothing(db, tmp_path):
    path = write(
        tmp_path,
        [record(tstamp=1700000000 + i, judge=f"arena_user_{i}") for i in range(5)]
        + [record(question_id=7), record("A", "B", "tie", id="x-1")],
    )
    first = battle_import.import_battles(path)
    assert first.created == 7 and first.skipped_duplicates == 0
    again = battle_import.import_battles(path)
    assert again.created == 0 and again.skipped_duplicates == 7 and not again.models_created
    assert Vote.objects.count() == 7
    # the same file into the other pool is a different import
    assert battle_import.import_battles(path, pool="community").created == 7


def test_duplicates_inside_one_file_count_once(db, tmp_path):
    path = write(tmp_path, [record(question_id="q"), record(question_id="q"), record(tstamp=5.0), record(tstamp=5.0)])
    report = battle_import.import_battles(path)
    assert (report.created, report.skipped_duplicates) == (2, 2)


def test_named_battles_are_skipped_unless_asked_for(db, tmp_path):
    path = write(
        tmp_path, [record(anony=True, question_id="a"), record(anony=False, question_id="n"), record(question_id="m")]
    )
    out, _ = run("import_battles", str(path))
    assert "2 votes created" in out and "1 skipped: named battle" in out
    assert Vote.objects.count() == 2
    assert set(Vote.objects.values_list("external_id", "anony")) == {("a", True), ("m", True)}
    out, _ = run("import_battles", str(path), "--include-named")
    assert "1 votes created" in out and "2 duplicates skipped" in out
    assert Vote.objects.get(external_id="n").anony is False  # the column, no marker in the id
    exported = {r["question_id"]: r["anony"] for r in json.loads(run("export_battles")[0])}
    assert exported == {"a": True, "n": False, "m": True}


def test_named_votes_round_trip_through_the_anony_column(db, tmp_path):
    path = write(
        tmp_path,
        [
            record(anony=False, question_id="n1", tstamp=1700000000),
            record("Veo 3", "Sora 2", "model_b", anony=False, question_id="n2"),
            record(question_id="blind"),
        ],
    )
    report = battle_import.import_battles(path, include_named=True)
    assert (report.created, report.skipped_duplicates, dict(report.skipped)) == (3, 0, {})
    assert dict(Vote.objects.values_list("external_id", "anony")) == {"n1": False, "n2": False, "blind": True}
    target = tmp_path / "export.json"
    run("export_battles", "--output", str(target))
    exported = json.loads(target.read_text())
    assert {r["question_id"]: r["anony"] for r in exported} == {"n1": False, "n2": False, "blind": True}
    # into another pool: named records stay named, and are skipped again unless asked for
    blind_only = battle_import.import_battles(target, pool="community")
    assert (blind_only.created, blind_only.skipped[battle_import.SKIP_NAMED]) == (1, 2)
    everything = battle_import.import_battles(target, pool="community", include_named=True)
    assert (everything.created, everything.skipped_duplicates) == (2, 1)
    community = Vote.objects.filter(pool="community")
    assert dict(community.values_list("external_id", "anony")) == {"n1": False, "n2": False, "blind": True}
    # re-importing creates nothing, named or not
    again = battle_import.import_battles(target, pool="community", include_named=True)
    assert (again.created, again.skipped_duplicates) == (0, 3) and community.count() == 3
    # named votes are exported but never counted
    assert list(board.counted_votes("community").values_list("external_id", flat=True)) == ["blind"]


def test_the_database_refuses_a_second_copy_of_an_imported_record(db, tmp_path):
    battle_import.import_battles(write(tmp_path, [record(question_id="q1")]))
    vote = Vote.objects.get()
    copy = {
        "model_a_id": vote.model_a_id,
        "model_b_id": vote.model_b_id,
        "winner": "tie",
        "voter_key": "x",
        "source": Vote.Source.IMPORT,
        "created_at": T0,
    }
    with pytest.raises(IntegrityError), transaction.atomic():  # bypassing the service
        Vote.objects.create(pool="official", external_id="q1", **copy)
    Vote.objects.create(pool="community", external_id="q1", **copy)  # another pool is another import
    for _ in range(2):  # arena votes have no external_id: no limit
        Vote.objects.create(pool="official", external_id="", **copy)
    assert Vote.objects.filter(external_id="q1").count() == 2 and Vote.objects.count() == 4


def test_a_record_stored_concurrently_after_the_lookup_is_skipped_not_an_error(db, tmp_path, monkeypatch):
    path = write(tmp_path, [record(question_id=f"q{i}", tstamp=1700000000 + i) for i in range(4)])
    assert battle_import.import_battles(path).created == 4
    # as if another import committed them between this import's lookup and its insert
    monkeypatch.setattr(battle_import, "_existing_external_ids", lambda pool, candidates: set())
    more = write(tmp_path, [record(question_id=f"q{i}", tstamp=1700000000 + i) for i in range(6)], "more.json")
    report = battle_import.import_battles(more)
    assert (report.created, report.skipped_duplicates) == (2, 4)
    assert sorted(Vote.objects.values_list("external_id", flat=True)) == [f"q{i}" for i in range(6)]
    # file order is kept (ids follow it), so records without tstamp keep their sequence
    assert list(Vote.objects.order_by("id").values_list("external_id", flat=True)) == [f"q{i}" for i in range(6)]


def test_invalid_records_are_reported_with_their_index(db, tmp_path):
    path = write(
        tmp_path,
        [
            record(question_id="ok"),  # 0
            record(winner="left"),  # 1 unknown label
            record("Sora 2", "sora-2"),  # 2 same model
            {"model_a": "X", "winner": "tie"},  # 3 missing model_b
            record(tstamp="yesterday"),  # 4 bad tstamp
            record(tstamp=-5),  # 5 implausible tstamp
            "not an object",  # 6
            record(anony="maybe"),  # 7
            record(tstamp=1e20),  # 8 out of range
            record(question_id="ok2", tstamp=1700000000),  # 9
        ],
    )
    out, err = run("import_battles", str(path))
    report = battle_import.import_battles(path)  # second time: the valid ones are duplicates now
    assert [e.index for e in report.errors] == [1, 2, 3, 4, 5, 6, 7, 8]
    messages = {e.index: e.message for e in report.errors}
    assert "unknown winner label 'left'" in messages[1]
    assert "same model" in messages[2]
    assert "missing model_b" in messages[3]
    assert "tstamp" in messages[4] and "tstamp" in messages[5] and "tstamp" in messages[8]
    assert "2 votes created" in out and "8 errors" in out
    assert "record 1: unknown winner label" in err
    assert Vote.objects.count() == 2


def test_strict_imports_nothing_when_any_record_is_invalid(db, tmp_path):
    path = write(tmp_path, [record(question_id="a"), record(winner="draw")])
    with pytest.raises(CommandError, match="nothing imported"):
        run("import_battles", str(path), "--strict")
    assert not Vote.objects.exists() and not VideoModel.objects.exists()
    good = write(tmp_path, [record(question_id="a")], "good.json")
    run("import_battles", str(good), "--strict")
    assert Vote.objects.count() == 1


def test_json_lines_are_accepted_and_bad_lines_reported(db, tmp_path):
    lines = [json.dumps(record(question_id=f"q{i}", category="food")) for i in range(3)]
    path = write(tmp_path, "\n".join([lines[0], "", lines[1], "{broken", lines[2]]) + "\n", "battles.jsonl")
    report = battle_import.import_battles(path, default_category="ignored")
    assert report.format == "jsonl" and report.created == 3
    assert [(e.index, e.line) for e in report.errors] == [(2, 4)]
    assert set(Vote.objects.values_list("category", flat=True)) == {"food"}


def test_category_option_applies_to_records_without_one(db, tmp_path):
    path = write(tmp_path, [record(question_id="a"), record(question_id="b", category="food")])
    run("import_battles", str(path), "--category", "physics", "--pool", "community")
    assert sorted(Vote.objects.values_list("pool", "category")) == [("community", "food"), ("community", "physics")]


@pytest.mark.parametrize("content", ["", "hello world\nthis is not json", "42", "[1, 2", b"\xff\xfe\x00garbage"])
def test_a_file_that_is_not_json_is_a_command_error(db, tmp_path, content):
    path = tmp_path / "garbage.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CommandError):
        run("import_battles", str(path))
    assert not Vote.objects.exists()


def test_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("import_battles", str(tmp_path / "nope.json"))


def test_round_trip_into_a_fresh_pool_keeps_the_counts(arena, tmp_path):
    target = tmp_path / "official.json"
    run("export_battles", "--pool", "official", "--output", str(target))
    out, _ = run("import_battles", str(target), "--pool", "community")
    assert "5 votes created" in out and "0 errors" in out
    original = tallies(Vote.objects.filter(pool="official", excluded_reason=""))
    imported = tallies(Vote.objects.filter(pool="community", source="import"))
    assert imported == original
    assert set(Vote.objects.filter(source="import").values_list("category", flat=True)) == {"animals"}
    # re-exported imported votes keep their question_id: importing them into the same pool again
    # adds nothing (only the community pool's own arena vote is new)
    again = tmp_path / "community.json"
    run("export_battles", "--pool", "community", "--output", str(again))
    report = battle_import.import_battles(again, pool="community")
    assert (report.created, report.skipped_duplicates) == (1, 5)


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
    assert set(doc) == {"pool", "category", "computed_at", "votes_counted", "bootstrap_rounds", "models"}
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


def test_wired_urls_export_battles_csv(arena, client):
    response = client.get("/api/v1/battles/export", {"format": "csv", "pool": "official"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="screentest-battles-official-')
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert (
        len(rows) == 5 and {r["pool"] for r in rows} == {"official"} and tuple(rows[0]) == battle_export.BATTLE_FIELDS
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
