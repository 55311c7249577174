"""workers.ratings.style_control: Bradley-Terry with covariates. Pure: no database.

Votes are simulated from known model strengths plus a planted covariate effect; ties are
taken half from each side's win probability so that E[A's score] = P(A wins) exactly and
ties-as-half is the right model (as in test_ratings.simulate).
"""

from __future__ import annotations

import numpy as np
import pytest

from workers.ratings import from_rows, leaderboard
from workers.ratings.bradley_terry import ELO_SCALE
from workers.ratings.style_control import (
    COVARIATES,
    Covariate,
    battle_differences,
    complete_rows,
    fit_style_control,
)

K = len(COVARIATES)
LABELS = {1.0: "model_a", 0.5: "tie", 0.0: "model_b"}


def simulate(rng, true_scores, n_votes, beta, k=K):
    """Raw differences with mixed spreads, a planted effect ``beta`` per SD of each column."""
    m = len(true_scores)
    a = rng.integers(0, m, n_votes)
    b = (a + rng.integers(1, m, n_votes)) % m
    x = rng.normal(0.0, 1.0, (n_votes, k)) * np.linspace(0.1, 0.5, k)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    eta = (true_scores[a] - true_scores[b]) / ELO_SCALE + z @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    tie = 0.4 * p * (1.0 - p)
    u = rng.random(n_votes)
    y = np.where(u < p - tie / 2, 1.0, np.where(u < p + tie / 2, 0.5, 0.0))
    return a, b, y, x


def models(m):
    return [f"m{i:02d}" for i in range(m)]


def test_planted_covariate_effect_is_recovered_within_its_interval():
    rng = np.random.default_rng(7)
    true = np.linspace(900, 1100, 8)
    beta = np.array([0.6, 0, 0, -0.3, 0, 0, 0])
    a, b, y, x = simulate(rng, true, 20_000, beta)
    result = fit_style_control(models(8), a, b, y, x)

    coefs = {c.name: c for c in result.coefficients}
    assert coefs["duration"].lower <= 0.6 <= coefs["duration"].upper
    assert coefs["motion"].lower <= -0.3 <= coefs["motion"].upper
    assert coefs["duration"].lower > 0.4 and coefs["motion"].upper < -0.15  # clearly away from 0
    for name in ("pixels", "fps", "sharpness", "loudness", "audio"):
        assert abs(coefs[name].coef) < 0.06, name
    assert coefs["duration"].win_share > 0.6 and "longer clips" in coefs["duration"].effect
    assert "%" in coefs["motion"].effect

    scores = {r.model: r.score for r in result.ratings}
    recovered = np.array([scores[m] for m in models(8)])
    assert np.abs(recovered - true).max() < 15
    assert [r.model for r in result.ratings] == models(8)[::-1]
    assert all(r.lower < r.score < r.upper for r in result.ratings)


def test_without_an_effect_the_controlled_and_raw_boards_agree():
    rng = np.random.default_rng(11)
    true = np.linspace(850, 1150, 7)
    a, b, y, x = simulate(rng, true, 15_000, np.zeros(len(COVARIATES)))
    controlled = fit_style_control(models(7), a, b, y, x)
    names = models(7)
    counts = from_rows((names[i], names[j], LABELS[o], 1) for i, j, o in zip(a, b, y))
    raw = leaderboard(counts, rounds=0)

    assert [r.model for r in controlled.ratings] == [r.model for r in raw]
    raw_scores = {r.model: r.score for r in raw}
    for row in controlled.ratings:
        assert abs(row.score - raw_scores[row.model]) < 2.0
    assert all(c.lower < 0 < c.upper or abs(c.coef) < 0.05 for c in controlled.coefficients)


def test_sandwich_intervals_cover_the_truth_about_95_percent_of_the_time():
    """300 small simulated arenas; the 95 % intervals of a planted coefficient and of a
    model's anchored score must each contain the truth in 91-99 % of them."""
    rng = np.random.default_rng(3)
    true = np.array([950.0, 1000.0, 1050.0, 1000.0])
    covs = COVARIATES[:2]
    beta = np.array([0.4, 0.0])
    hits_coef = hits_score = 0
    sims = 300
    for _ in range(sims):
        a, b, y, x = simulate(rng, true, 800, beta, k=2)
        result = fit_style_control(models(4), a, b, y, x, covariates=covs, penalty=0.0)
        c = result.coefficients[0]
        hits_coef += c.lower <= 0.4 <= c.upper
        top = next(r for r in result.ratings if r.model == "m02")
        hits_score += top.lower <= 1050.0 <= top.upper
    assert 0.91 <= hits_coef / sims <= 0.99
    assert 0.91 <= hits_score / sims <= 0.99


def test_differences_are_relative_for_sizes_plain_for_loudness_and_zero_when_unknown():
    nan = float("nan")
    clip_a = {
        "duration": [6.0, 4.0, nan],
        "pixels": [1280 * 720, 512 * 288, 100.0],
        "fps": [24.0, 24.0, 30.0],
        "motion": [2.0, 0.0, 1.0],
        "sharpness": [0.0, 0.0, 5.0],
        "loudness": [-14.0, nan, -20.0],
        "audio": [1.0, 0.0, 1.0],
    }
    clip_b = {
        "duration": [4.0, 4.0, 5.0],
        "pixels": [512 * 288, 512 * 288, 100.0],
        "fps": [30.0, 24.0, 30.0],
        "motion": [1.0, 0.0, 1.0],
        "sharpness": [0.0, 0.0, nan],
        "loudness": [-24.0, -23.0, nan],
        "audio": [1.0, 1.0, 0.0],
    }
    d = battle_differences(clip_a, clip_b)
    assert d[0, 0] == pytest.approx(0.2)  # (6-4)/(6+4)
    assert d[0, 1] == pytest.approx((1280 * 720 - 512 * 288) / (1280 * 720 + 512 * 288))
    assert d[0, 2] == pytest.approx(-6 / 54)
    assert d[0, 4] == 0.0  # both zero: no difference, no division by zero
    assert d[0, 5] == pytest.approx(0.5)  # 10 dB / 20
    assert d[1, 6] == -1.0 and d[2, 6] == 1.0
    assert d[2, 0] == 0.0 and d[2, 4] == 0.0 and d[1, 5] == 0.0  # unknown -> no known difference
    np.testing.assert_allclose(battle_differences(clip_b, clip_a), -d)  # antisymmetric
    assert complete_rows(clip_a, clip_b).tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": [0.3]}, "outcome"),
        ({"b": [0]}, "itself"),
        ({"count": [-1.0]}, "non-negative"),
        ({"a": [5]}, "out of range"),
    ],
)
def test_bad_input_is_refused_with_a_specific_error(kwargs, message):
    args = {"a": [0], "b": [1], "outcome": [1.0], "count": [1.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fit_style_control(
            models(2), np.array(args["a"]), np.array(args["b"]), np.array(args["outcome"]),
            np.zeros((1, 1)), np.array(args["count"]), covariates=COVARIATES[:1],
        )  # fmt: skip
    with pytest.raises(ValueError, match="negative"):
        battle_differences({"duration": [-1.0]}, {"duration": [2.0]}, COVARIATES[:1])
    with pytest.raises(ValueError, match="kind"):
        battle_differences({"x": [1.0]}, {"x": [2.0]}, [Covariate("x", "log", "bigger")])


def test_a_covariate_that_never_varies_is_reported_not_estimable_and_changes_nothing():
    rng = np.random.default_rng(5)
    a, b, y, x = simulate(rng, np.array([900.0, 1000.0, 1100.0]), 3_000, np.array([0.5, 0.0]), k=2)
    x[:, 1] = 0.25  # e.g. every clip 24 fps
    result = fit_style_control(models(3), a, b, y, x, covariates=COVARIATES[:2])
    flat = result.coefficients[1]
    assert not flat.estimable and flat.coef == 0.0 and "not estimable" in flat.effect
    assert all(np.isfinite([r.score, r.lower, r.upper]).all() for r in result.ratings)


def test_counts_weight_rows_like_repeated_votes_and_no_votes_give_an_empty_board():
    rng = np.random.default_rng(9)
    a, b, y, x = simulate(rng, np.array([950.0, 1050.0]), 400, np.array([0.3]), k=1)
    once = fit_style_control(models(2), np.r_[a, a], np.r_[b, b], np.r_[y, y], np.r_[x, x], covariates=COVARIATES[:1])
    twice = fit_style_control(models(2), a, b, y, x, np.full(len(a), 2.0), covariates=COVARIATES[:1])
    for r1, r2 in zip(once.ratings + once.coefficients, twice.ratings + twice.coefficients, strict=True):
        assert (r1.lower, r1.upper) == pytest.approx((r2.lower, r2.upper), abs=1e-9)
    empty = fit_style_control(models(2), a[:0], b[:0], y[:0], x[:0], covariates=COVARIATES[:1])
    assert empty.ratings == [] and empty.votes == 0


def test_a_model_no_battle_links_to_the_others_gets_the_whole_board_as_its_interval():
    rng = np.random.default_rng(13)
    a, b, y, x = simulate(rng, np.array([900.0, 1000.0, 1100.0]), 2_000, np.array([0.2]), k=1)
    lone_a, lone_b = np.full(30, 3), np.full(30, 4)  # m03 and m04 only ever meet each other
    lone_y = (rng.random(30) < 0.7).astype(float)
    result = fit_style_control(
        models(5),
        np.r_[a, lone_a],
        np.r_[b, lone_b],
        np.r_[y, lone_y],
        np.r_[x, rng.normal(0, 0.1, (30, 1))],
        covariates=COVARIATES[:1],
    )
    rows = {r.model: r for r in result.ratings}
    low, high = min(r.lower for r in result.ratings), max(r.upper for r in result.ratings)
    for lone in ("m03", "m04"):
        assert not rows[lone].connected and (rows[lone].lower, rows[lone].upper) == (low, high)
    main = [rows[m] for m in ("m00", "m01", "m02")]
    assert all(r.connected for r in main)
    assert np.mean([r.score for r in main]) == pytest.approx(1000.0)  # anchored on the main group
