"""FastChat's outlier-voter test: contrarians are flagged, honest voters almost never (at most
2 * alpha by construction), and flagged votes are excluded, not deleted."""

import numpy as np
import pytest
from django.utils import timezone

from webapp.arena.models import Vote
from webapp.arena.services import board, outliers, tallies

HISTORY = {(1, 2): (900, 1000), (1, 3): (700, 1000), (2, 3): (400, 1000)}  # lower id's wins / decisive
TEST = dict(alpha=0.05, max_votes=100, min_pair_history=20)


def honest_votes(rng, n, ties=0.1):
    pairs = list(HISTORY)
    votes = []
    for _ in range(n):
        lo, hi = pairs[rng.integers(len(pairs))]
        a, b = (lo, hi) if rng.random() < 0.5 else (hi, lo)  # either side on the left
        if rng.random() < ties:
            votes.append((a, b, "tie"))
            continue
        won, total = HISTORY[(lo, hi)]
        winner_id = lo if rng.random() < won / total else hi
        votes.append((a, b, "model_a" if winner_id == a else "model_b"))
    return votes


def test_a_contrarian_is_flagged_within_a_few_votes():
    contrarian = [(1, 2, "model_b")] * 3  # the pair's lower id wins 90% of the time
    assert outliers.is_outlier(contrarian, HISTORY, **TEST)
    assert not outliers.is_outlier(contrarian[:1], HISTORY, **TEST)  # one surprise is not enough


def test_ties_thin_history_and_the_vote_cap_are_not_judged():
    assert not outliers.is_outlier([(1, 2, "tie")] * 50 + [(1, 2, "tie (bothbad)")] * 50, HISTORY, **TEST)
    thin = {(1, 2): (18, 19)}
    assert not outliers.is_outlier([(1, 2, "model_b")] * 50, thin, **TEST)
    late = [(1, 3, "model_a")] * 100 + [(1, 2, "model_b")] * 10  # surprises only after 100 judged votes
    assert not outliers.is_outlier(late, HISTORY, **{**TEST, "max_votes": 100})


def test_honest_voters_are_flagged_at_most_twice_alpha_of_the_time():
    rng = np.random.default_rng(3)
    flagged = sum(outliers.is_outlier(honest_votes(rng, 60), HISTORY, **TEST) for _ in range(500))
    assert flagged / 500 <= 2 * TEST["alpha"], flagged


def cast(model_a, model_b, winner, voter, n=1):
    Vote.objects.bulk_create(
        Vote(
            model_a=model_a, model_b=model_b, winner=winner, pool="official", voter_key=voter, created_at=timezone.now()
        )
        for _ in range(n)
    )


@pytest.mark.django_db
def test_flagged_voters_votes_are_excluded_and_counted_again_when_history_agrees(demo_models, settings):
    settings.LEADERBOARD_MIN_VOTES = 1
    aurora, lumen, _ = demo_models
    for k in range(30):  # a crowd: aurora beats lumen 9 times in 10
        cast(aurora, lumen, "model_a", f"crowd-{k}", 9)
        cast(aurora, lumen, "model_b", f"crowd-{k}", 1)
    cast(lumen, aurora, "model_a", "shill", 8)  # always lumen, whichever side it is on
    cast(aurora, lumen, "model_b", "shill", 4)
    assert outliers.exclude_outlier_voters("official") == ["shill"]
    reasons = set(Vote.objects.filter(voter_key="shill").values_list("excluded_reason", flat=True))
    assert reasons == {"outlier_voter"} and Vote.objects.count() == 312  # kept, not deleted
    assert tallies.drift() == {} and board.aggregate("official").total == 300
    assert outliers.exclude_outlier_voters("official") == ["shill"]  # stable

    cast(lumen, aurora, "model_a", "shill", 3)  # a later vote is excluded at the next check
    outliers.exclude_outlier_voters("official", since=timezone.now() - timezone.timedelta(minutes=1))
    assert not Vote.objects.filter(voter_key="shill", excluded_reason="").exists()

    for k in range(30):  # a second crowd prefers lumen: the history is now even
        cast(lumen, aurora, "model_a", f"crowd2-{k}", 8)
    assert outliers.exclude_outlier_voters("official") == []
    assert not Vote.objects.filter(excluded_reason="outlier_voter").exists()  # the shill counts again


@pytest.mark.django_db
def test_the_test_can_be_switched_off(demo_models, settings):
    settings.OUTLIER_ALPHA = 0
    aurora, lumen, _ = demo_models
    cast(aurora, lumen, "model_a", "crowd", 50)
    cast(aurora, lumen, "model_b", "shill", 10)
    assert outliers.exclude_outlier_voters("official") == []
