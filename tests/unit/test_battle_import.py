"""The battle import (webapp/arena/services/battle_import.py): FastChat clean-battle records in,
validated first, one transaction, deduplicated per pool."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.interop_support import (  # noqa: F401  (no_broker: an autouse fixture)
    T0,
    arena,
    no_broker,
    record,
    run,
    tallies,
    write,
)
from webapp.arena.models import Vote
from webapp.arena.services import battle_import, board
from webapp.catalog.models import VideoModel

pytestmark = pytest.mark.django_db


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
