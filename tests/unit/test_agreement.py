"""workers.ratings.agreement: pairwise accuracy and rank correlation of a metric with the votes.
Pure: no database. Votes are simulated with the winner drawn from a known metric, or from noise."""

from __future__ import annotations

import numpy as np
import pytest

from workers.ratings.agreement import metric_agreement, model_medians, pairwise_accuracy, rank_correlation


def votes(rng, n, driven_by_metric: bool):
    """Per vote: the metric on clip A and B and the outcome. Driven: P(A wins) rises steeply
    with the metric's difference; noise: a fair coin. One vote in ten is a tie."""
    va, vb = rng.random(n), rng.random(n)
    p = 1.0 / (1.0 + np.exp(-8.0 * (va - vb))) if driven_by_metric else np.full(n, 0.5)
    y = (rng.random(n) < p).astype(float)
    y[rng.random(n) < 0.1] = 0.5
    return va, vb, y


def test_votes_drawn_from_the_metric_agree_with_it():
    va, vb, y = votes(np.random.default_rng(1), 3_000, driven_by_metric=True)
    acc = pairwise_accuracy(va, vb, y)
    assert acc.accuracy > 0.7 and acc.lower > 0.65
    assert acc.lower < acc.accuracy < acc.upper
    assert acc.battles == int((y != 0.5).sum())  # ties excluded
    flipped = pairwise_accuracy(va, vb, y, higher_is_better=False)
    assert flipped.accuracy == pytest.approx(1.0 - acc.accuracy)


def test_votes_drawn_from_noise_do_not_agree():
    va, vb, y = votes(np.random.default_rng(2), 3_000, driven_by_metric=False)
    acc = pairwise_accuracy(va, vb, y)
    assert acc.lower < 0.5 < acc.upper
    assert abs(acc.accuracy - 0.5) < 0.03


def test_bootstrap_interval_matches_the_binomial_standard_error():
    # 600 of 1000: SE = sqrt(.6 * .4 / 1000) = 0.0155 -> 95 % interval about +-0.030
    va = np.r_[np.ones(600), np.zeros(400)]
    acc = pairwise_accuracy(va, 1.0 - va, np.ones(1000))
    assert acc.accuracy == 0.6
    assert acc.upper - acc.lower == pytest.approx(2 * 1.96 * np.sqrt(0.24 / 1000), abs=0.004)


def test_unmeasured_clips_equal_values_and_counts():
    nan = float("nan")
    acc = pairwise_accuracy(
        np.array([2.0, nan, 1.0, 3.0, 1.0]),
        np.array([1.0, 1.0, 1.0, 0.0, 2.0]),
        np.array([1.0, 1.0, 0.0, 0.0, 0.0]),
        np.array([3.0, 5.0, 7.0, 1.0, 2.0]),
    )
    # usable rows: 0 (agree x3), 3 (disagree x1), 4 (agree x2); NaN and equal values left out
    assert (acc.battles, acc.agree) == (6, 5)
    empty = pairwise_accuracy(np.array([nan]), np.array([1.0]), np.array([1.0]))
    assert empty.accuracy is None and empty.battles == 0
    with pytest.raises(ValueError, match="outcome"):
        pairwise_accuracy(np.array([1.0]), np.array([0.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="one entry"):
        pairwise_accuracy(np.array([1.0, 2.0]), np.array([0.0]), np.array([1.0]))


def test_rank_correlation_of_the_metric_order_with_the_ratings():
    scores = {f"m{i}": 900.0 + 25 * i for i in range(8)}
    same = rank_correlation({m: s / 100 for m, s in scores.items()}, scores)
    assert same.kendall_tau == pytest.approx(1.0) and same.spearman_rho == pytest.approx(1.0)
    assert same.kendall_p < 0.01
    reversed_ = rank_correlation({m: -s for m, s in scores.items()}, scores)
    assert reversed_.kendall_tau == pytest.approx(-1.0)
    too_few = rank_correlation({"m0": 1.0, "m1": 2.0}, scores)
    assert too_few.kendall_tau is None and too_few.models == 2


def test_one_row_per_metric_from_clip_medians():
    rng = np.random.default_rng(3)
    clip_model = np.repeat([f"m{i}" for i in range(6)], 10)
    clip_value = np.repeat(np.arange(6.0), 10) + rng.normal(0, 0.1, 60)
    clip_value[0] = np.nan  # an unmeasured clip does not count
    medians = model_medians(clip_model, clip_value)
    assert sorted(medians) == [f"m{i}" for i in range(6)]
    assert medians["m3"] == pytest.approx(3.0, abs=0.1)
    va, vb, y = votes(rng, 2_000, driven_by_metric=True)
    row = metric_agreement("sharpness", va, vb, y, None, medians, {f"m{i}": 1000.0 + i for i in range(6)})
    assert row.metric == "sharpness" and row.kendall_tau == pytest.approx(1.0) and row.accuracy > 0.7
    lower_better = metric_agreement(
        "flicker", va, vb, y, None, medians, {f"m{i}": 1000.0 + i for i in range(6)}, higher_is_better=False
    )
    assert lower_better.kendall_tau == pytest.approx(-1.0) and lower_better.accuracy < 0.3
