"""The trigger-kept vote tallies stay equal to a GROUP BY over the votes, whatever writes the
votes: the ORM, bulk inserts, the import's COPY path, moderation's bulk updates, deletes and
concurrent voters; on PostgreSQL here and on SQLite (the embedded default) in a subprocess."""

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from webapp.arena.models import Vote, VoteTally
from webapp.arena.services import battle_import, board, tallies

REPO = Path(__file__).resolve().parents[2]


def vote(model_a, model_b, winner="model_a", **extra):
    fields = {"pool": "official", "category": "", "voter_key": "v", "created_at": timezone.now(), **extra}
    return Vote.objects.create(model_a=model_a, model_b=model_b, winner=winner, **fields)


def tally(model_a, model_b, winner, pool="official", category=""):
    row = VoteTally.objects.filter(
        pool=pool, category=category, model_a=model_a, model_b=model_b, winner=winner
    ).first()
    return row.votes if row else 0


@pytest.mark.django_db
def test_every_kind_of_write_keeps_tallies_equal_to_the_votes(demo_models):
    aurora, lumen, pixel = demo_models
    first = vote(aurora, lumen)
    vote(aurora, lumen)
    vote(aurora, lumen, "tie (bothbad)", category="animals")
    vote(aurora, lumen, excluded_reason="not_watched")  # not counted
    vote(lumen, aurora, "model_b", anony=False)  # named: not counted
    assert tally(aurora, lumen, "model_a") == 2 and tally(aurora, lumen, "tie (bothbad)", category="animals") == 1
    assert tally(lumen, aurora, "model_b") == 0 and tallies.drift() == {}

    Vote.objects.bulk_create(
        Vote(model_a=pixel, model_b=aurora, winner=w, pool="community", voter_key="v", created_at=timezone.now())
        for w in ["model_a", "tie", "model_a"]
    )
    assert tally(pixel, aurora, "model_a", pool="community") == 2

    # moderation hides and restores in bulk updates
    assert (
        Vote.objects.filter(model_a=aurora, model_b=lumen, excluded_reason="").update(excluded_reason="hidden_clip")
        == 3
    )
    assert tally(aurora, lumen, "model_a") == 0 and tallies.drift() == {}
    Vote.objects.filter(excluded_reason="hidden_clip").update(excluded_reason="")
    assert tally(aurora, lumen, "model_a") == 2

    # any counted column changing moves the vote between tallies
    Vote.objects.filter(pk=first.pk).update(winner="tie", category="scenery")
    assert tally(aurora, lumen, "model_a") == 1 and tally(aurora, lumen, "tie", category="scenery") == 1
    Vote.objects.filter(pk=first.pk).delete()
    assert tally(aurora, lumen, "tie", category="scenery") == 0
    Vote.objects.filter(watched_left_s__isnull=True).update(watched_left_s=3.0)  # nets to nothing
    assert tallies.drift() == {}
    assert VoteTally.objects.filter(votes__lt=0).count() == 0


@pytest.mark.django_db
def test_the_board_reads_the_tallies_and_they_agree_with_the_old_group_by(demo_models):
    aurora, lumen, pixel = demo_models
    for winner, n in [("model_a", 7), ("model_b", 3), ("tie", 2)]:
        for _ in range(n):
            vote(aurora, pixel, winner, category="animals")
            vote(lumen, pixel, winner, category="scenery")
    vote(aurora, lumen, "model_a", excluded_reason="saw_named_results")
    counts = board.aggregate("official")
    from_votes = board.counted_votes("official").values_list("model_a__slug", "model_b__slug", "winner")
    expected = {}
    for row in from_votes:
        expected[row] = expected.get(row, 0) + 1
    assert sorted(tallies.counted_rows("official")) == sorted((*k, n) for k, n in expected.items())
    assert counts.total == 24 and set(counts.models) == {aurora.slug, lumen.slug, pixel.slug}
    assert board.aggregate("official", "animals").total == 12
    assert tallies.categories("official") == ["animals", "scenery"]
    lumen.in_arena = False
    lumen.save(update_fields=["in_arena"])
    assert board.aggregate("official").total == 12  # a model leaving the arena takes its votes along


@pytest.mark.django_db
def test_the_import_copy_path_is_tallied(db, tmp_path):
    records = [
        {"model_a": "Sora 2", "model_b": "Veo 3", "winner": w, "question_id": f"q{i}"}
        for i, w in enumerate(["model_a", "model_a", "tie", "model_b"])
    ]
    path = tmp_path / "battles.json"
    path.write_text(json.dumps(records))
    assert battle_import.import_battles(path).created == 4
    assert battle_import.import_battles(path).created == 0  # duplicates skipped by ON CONFLICT: not tallied twice
    assert sum(VoteTally.objects.values_list("votes", flat=True)) == 4 and tallies.drift() == {}


@pytest.mark.django_db
def test_check_reports_drift_and_rebuild_repairs_it(demo_models):
    aurora, lumen, _ = demo_models
    vote(aurora, lumen)
    vote(aurora, lumen)
    VoteTally.objects.filter(model_a=aurora).update(votes=5)  # what a bug or a manual edit could do
    with pytest.raises(CommandError, match="1 tally rows differ"):
        call_command("vote_tallies", stdout=io.StringIO())
    assert tallies.drift() == {("official", "", aurora.pk, lumen.pk, "model_a"): (5, 2)}
    call_command("vote_tallies", "--rebuild", stdout=io.StringIO())
    assert tallies.drift() == {} and tally(aurora, lumen, "model_a") == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_voters_on_the_same_pair_lose_no_count(demo_models):
    aurora, lumen, _ = demo_models
    per_thread, threads = 40, 6
    errors = []

    def cast(k):
        try:
            for i in range(per_thread):  # autocommit, like the vote endpoint
                vote(aurora, lumen, ["model_a", "tie"][(i + k) % 2], voter_key=f"t{k}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=cast, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=60)
    assert not errors
    assert tally(aurora, lumen, "model_a") + tally(aurora, lumen, "tie") == per_thread * threads
    assert tallies.drift() == {}


SQLITE_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from webapp.catalog.models import VideoModel
from webapp.arena.models import Vote, VoteTally
from webapp.arena.services import tallies, board
a = VideoModel.objects.create(slug="a", display_name="A", vendor="t", backend_key="demo")
b = VideoModel.objects.create(slug="b", display_name="B", vendor="t", backend_key="demo")
now = timezone.now()
Vote.objects.bulk_create(Vote(model_a=a, model_b=b, winner=w, pool="official", voter_key="v", created_at=now)
                         for w in ["model_a", "model_a", "tie", "model_b"])
Vote.objects.create(model_a=b, model_b=a, winner="model_a", pool="official", voter_key="v", created_at=now,
                    excluded_reason="not_watched")
Vote.objects.filter(winner="tie").update(excluded_reason="hidden_clip")
Vote.objects.filter(winner="model_b").update(winner="tie (bothbad)", category="food")
Vote.objects.filter(excluded_reason="not_watched").update(excluded_reason="")
Vote.objects.filter(winner="model_a", model_a=a).first().delete()
print(json.dumps({"drift": len(tallies.drift()), "rows": sorted(map(list, tallies.counted_rows("official"))),
                  "total": board.aggregate("official").total}))
"""


def test_sqlite_triggers_keep_the_same_tallies(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="webapp.settings")  # embedded defaults
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "drift": 0,
        "total": 3,
        "rows": [["a", "b", "model_a", 1], ["a", "b", "tie (bothbad)", 1], ["b", "a", "model_a", 1]],
    }


def test_the_triggers_are_installed_by_migrations(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'arena_vote'::regclass AND NOT tgisinternal ORDER BY tgname"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'arena_vote' ORDER BY name"
            )
        names = [r[0] for r in cursor.fetchall()]
    assert names == ["arena_vote_tally_delete", "arena_vote_tally_insert", "arena_vote_tally_update"]
