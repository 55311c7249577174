import random

import pytest
from django.utils import timezone

from webapp.arena.models import RatingSnapshot, Vote
from webapp.arena.services import board
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS

pytestmark = pytest.mark.django_db


def add_votes(
    model_a, model_b, *, a_wins=0, b_wins=0, ties=0, bothbad=0, pool="official", category="", excluded_reason=""
):
    rows = [("model_a")] * a_wins + ["model_b"] * b_wins + ["tie"] * ties + ["tie (bothbad)"] * bothbad
    random.Random(1).shuffle(rows)
    Vote.objects.bulk_create(
        Vote(
            model_a=model_a,
            model_b=model_b,
            winner=w,
            pool=pool,
            category=category,
            voter_key="v",
            excluded_reason=excluded_reason,
            created_at=timezone.now(),
        )
        for w in rows
    )


@pytest.fixture
def voted(demo_models, settings):
    settings.LEADERBOARD_MIN_VOTES = 5
    settings.LEADERBOARD_PRELIMINARY_BELOW = 50
    settings.RATING_BOOTSTRAP_ROUNDS = 200
    aurora, lumen, pixel = sorted(demo_models, key=lambda m: m.slug)
    add_votes(aurora, lumen, a_wins=40, b_wins=15, ties=5, category="animals")
    add_votes(lumen, pixel, a_wins=35, b_wins=10, bothbad=8, category="scenery")
    add_votes(aurora, pixel, a_wins=45, b_wins=5, category="animals")
    add_votes(pixel, aurora, a_wins=30, excluded_reason="saw_named_results")  # must not count
    add_votes(pixel, aurora, a_wins=30, pool="community")  # other pool
    return aurora, lumen, pixel


def test_snapshot_orders_models_and_counts_only_counted_votes(voted):
    aurora, lumen, pixel = voted
    snapshot = board.recompute("official")
    assert [r["model"] for r in snapshot.rows] == [aurora.slug, lumen.slug, pixel.slug]
    assert snapshot.votes_counted == 60 + 53 + 50
    top = snapshot.rows[0]
    assert top["lower"] < top["score"] < top["upper"] and top["rank_ub"] == 1
    assert top["votes"] == 110 and not top["preliminary"]
    assert snapshot.rows[2]["rank_ub"] == 3
    assert set(snapshot.pairwise["models"]) == {aurora.slug, lumen.slug, pixel.slug}
    i, j = snapshot.pairwise["models"].index(aurora.slug), snapshot.pairwise["models"].index(pixel.slug)
    assert snapshot.pairwise["battles"][i][j] == 50 and snapshot.pairwise["win_rate"][i][j] == pytest.approx(0.9)
    assert board.latest("official") == snapshot


def test_pools_categories_thresholds_and_hidden_models(voted, settings):
    aurora, lumen, pixel = voted
    community = board.recompute("community")
    assert [r["model"] for r in community.rows] == [pixel.slug, aurora.slug] and community.rows[0]["preliminary"]
    animals = board.recompute("official", "animals")
    assert {r["model"] for r in animals.rows} == {aurora.slug, lumen.slug, pixel.slug}
    assert animals.votes_counted == 110
    settings.LEADERBOARD_MIN_VOTES = 104  # aurora 110, lumen 113, pixel 103 counted votes
    assert [r["model"] for r in board.recompute("official").rows] == [aurora.slug, lumen.slug]
    settings.LEADERBOARD_MIN_VOTES = 5
    lumen.in_arena = False  # hidden: its votes leave the board with it
    lumen.save()
    hidden = board.recompute("official")
    assert [r["model"] for r in hidden.rows] == [aurora.slug, pixel.slug] and hidden.votes_counted == 50


def test_recompute_all_makes_a_snapshot_per_pool_and_category(voted):
    assert board.recompute_all() == 4  # official: all, animals, scenery; community: all
    assert set(RatingSnapshot.objects.values_list("pool", "category")) == {
        ("official", ""),
        ("official", "animals"),
        ("official", "scenery"),
        ("community", ""),
    }


def test_leaderboard_page_reads_the_snapshot(client, voted, django_assert_max_num_queries):
    assert "No ratings have been computed" in client.get("/leaderboard").content.decode()
    board.recompute("official")
    board.recompute("official", "animals")
    with django_assert_max_num_queries(4):  # the page never computes ratings itself
        page = client.get("/leaderboard").content.decode()
    assert page.index("Aurora") < page.index("Lumen") < page.index("Pixel")
    assert "Win rate of the row model" in page and "Battles between each pair" in page
    assert 'class="ci"' in page
    assert "animals" in client.get("/leaderboard?category=animals").content.decode()


def replayed_elo(pool="official", category=""):
    from workers import ratings

    sequence = (
        board.counted_votes(pool, category)
        .order_by("created_at", "id")
        .values_list("model_a__slug", "model_b__slug", "winner")
    )
    return {slug: round(score, 1) for slug, score in ratings.online_elo(sequence).items()}


def live_elo_of(snapshot):
    return {row["model"]: row["elo_live"] for row in snapshot.rows}


def test_live_elo_continues_from_the_last_snapshot_and_replays_when_the_past_changed(voted, monkeypatch):
    from datetime import timedelta

    from webapp.arena.services import live_elo

    aurora, lumen, pixel = voted
    first = board.recompute("official")
    assert first.elo_state["votes"] == 163 and live_elo_of(first) == replayed_elo()

    fed = []
    real = live_elo.ratings.online_elo
    monkeypatch.setattr(live_elo.ratings, "online_elo", lambda seq, **kw: real(_tap(seq, fed), **kw))
    add_votes(lumen, aurora, a_wins=7, b_wins=2)  # newer votes: only these are fed
    second = board.recompute("official")
    assert len(fed) == 9 and second.elo_state["votes"] == 172
    assert live_elo_of(second) == replayed_elo()

    fed.clear()  # a vote committed late, behind the point the last snapshot stopped at
    Vote.objects.create(
        model_a=pixel,
        model_b=lumen,
        winner="model_a",
        pool="official",
        voter_key="late",
        created_at=timezone.now() - timedelta(hours=1),
    )
    third = board.recompute("official")
    assert len(fed) == 173 and live_elo_of(third) == replayed_elo()

    fed.clear()  # a moderator excludes votes from the past: replayed again
    Vote.objects.filter(model_a=aurora, model_b=pixel, winner="model_b").update(excluded_reason="hidden_clip")
    fourth = board.recompute("official")
    assert len(fed) == 168 and live_elo_of(fourth) == replayed_elo()

    fed.clear()  # nothing new: nothing fed, same numbers
    assert live_elo_of(board.recompute("official")) == live_elo_of(fourth) and fed == []


def _tap(sequence, into):
    for item in sequence:
        into.append(item)
        yield item


def test_leaderboard_rows_show_each_models_measured_motion_with_its_spread(client, voted):
    aurora = voted[0]
    for n, motion in enumerate((0.5, 1.0, 1.5)):
        prompt = Prompt.objects.create(text=f"m{n}", seed=1, duration_s=2, aspect_ratio="16:9")
        job = GenerationJob.objects.create(prompt=prompt, model=aurora, state=JobState.SUCCEEDED)
        Clip.objects.create(
            job=job, original="o.mp4", web="w.mp4", poster="p.jpg", sha256_original="0" * 64, sha256_web="0" * 64,
            duration_s=2, width=512, height=288, fps=24, codec="h264", bytes=1, original_bytes=1,
            measurements={**dict.fromkeys(METRIC_KEYS, 0.9), "motion_mean": motion},
            measurements_version=MEASUREMENTS_VERSION,
        )  # fmt: skip
    snapshot = board.recompute("official")
    facts = next(r for r in snapshot.rows if r["model"] == aurora.slug)["facts"]
    assert facts["picture"]["motion_mean"] == [1.0, 0.75, 1.25]  # median, 25th, 75th percentile
    page = client.get("/leaderboard").content.decode()
    assert "motion 1.00 px/frame (0.75–1.25)" in page and "flicker 0.900" in page
