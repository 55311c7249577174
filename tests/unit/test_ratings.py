"""workers.ratings: Bradley-Terry + bootstrap maths. Pure: no database.

Over ~400 lines on purpose: the fit, its bootstrap, the board and online Elo are one piece of
maths checked against closed forms and an independent FastChat-style fit, on the simulated vote
sets defined at the top.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time

import numpy as np
import pytest

from workers import ratings
from workers.ratings import PairCounts, Rating, bradley_terry, from_rows

LABELS = {2: "model_a", 1: "tie", 0: "model_b"}


def simulate(rng: np.random.Generator, true_scores: np.ndarray, n_votes: int) -> list[tuple[str, str, str, int]]:
    """Votes drawn from Bradley-Terry with known scores (Elo scale), aggregated like the DB does.

    Ties happen with probability 0.4 * p * (1 - p) (10 % for an even match) and are taken
    half from each side's win probability, so E[A's score] = p exactly: ties-as-half BT is
    then the right model and the fit must recover `true_scores` up to the anchor.
    """
    m = len(true_scores)
    a = rng.integers(0, m, n_votes)
    b = (a + rng.integers(1, m, n_votes)) % m
    p = 1.0 / (1.0 + 10.0 ** ((true_scores[b] - true_scores[a]) / 400.0))
    tie = 0.4 * p * (1.0 - p)
    u = rng.random(n_votes)
    code = np.where(u < p - tie / 2, 2, np.where(u < p + tie / 2, 1, 0))
    rows, counts = np.unique(np.stack([a, b, code], axis=1), axis=0, return_counts=True)
    return [(f"m{x:02d}", f"m{y:02d}", LABELS[int(c)], int(n)) for (x, y, c), n in zip(rows, counts)]


def arena_truth(rng: np.random.Generator, m: int = 10) -> np.ndarray:
    """True scores spread like an arena (1000 +- 150), anchored like the fit: mean exactly 1000."""
    s = rng.normal(0.0, 150.0, m)
    return s - s.mean() + 1000.0


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx = np.argsort(np.argsort(x)).astype(float)
    ry = np.argsort(np.argsort(y)).astype(float)
    return float(np.corrcoef(rx, ry)[0, 1])


def by_model(board: list[Rating]) -> dict[str, Rating]:
    return {r.model: r for r in board}


# --- from_rows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        (("x", "y", "left", 3), "unknown winner"),
        (("x", "y", "Tie", 3), "unknown winner"),
        (("x", "x", "tie", 3), "itself"),
        (("x", "y", "tie", -1), "negative"),
        (("x", "y", "tie", 1.5), "whole number"),
        (("x", "y", "tie", "3"), "whole number"),
        (("x", "y", "tie", True), "whole number"),
        (("x", "y", "tie", float("nan")), "whole number"),
        (("x", "y", "tie"), "expected"),
    ],
)
def test_from_rows_rejects_bad_rows(row, message):
    with pytest.raises(ValueError, match=message):
        from_rows([("a", "b", "model_a", 1), row])


def test_from_rows_merges_sorts_and_drops_zero_counts():
    counts = from_rows(
        [
            ("zeta", "alpha", "tie (bothbad)", 2),
            ("zeta", "alpha", "tie", 3),  # same outcome 0.5: one row with 5
            ("alpha", "zeta", "model_a", np.int64(4)),
            ("zeta", "alpha", "model_a", 1),
            ("zeta", "alpha", "model_a", 6),  # duplicate key: summed
            ("alpha", "ghost", "model_b", 0),  # dropped, and so is "ghost"
        ]
    )
    assert counts.models == ("alpha", "zeta")
    assert counts.total == 16 and len(counts) == 3
    # sorted by (a, b, outcome), as np.unique(axis=0) sorts FastChat's schedule
    assert counts.a.tolist() == [0, 1, 1]
    assert counts.b.tolist() == [1, 0, 0]
    assert counts.outcome.tolist() == [1.0, 0.5, 1.0]
    assert counts.count.tolist() == [4.0, 5.0, 7.0]


def test_empty_input():
    counts = from_rows([])
    assert counts.models == () and counts.total == 0
    assert ratings.leaderboard(counts) == []
    assert ratings.fit_bt(counts).shape == (0,)
    assert ratings.bootstrap_bt(counts, rounds=5).shape == (5, 0)
    assert ratings.pairwise_matrices(counts) == {"models": [], "win_rate": [], "battles": []}
    assert ratings.leaderboard(from_rows([("a", "b", "tie", 0)])) == []


# --- fit semantics --------------------------------------------------------------------------


def test_orientation_does_not_matter():
    forward = from_rows(
        [
            ("x", "y", "model_a", 30),
            ("x", "y", "model_b", 10),
            ("y", "z", "tie", 8),
            ("y", "z", "model_a", 12),
            ("z", "y", "model_a", 5),
        ]
    )
    flipped = from_rows(
        [
            ("y", "x", "model_b", 30),
            ("y", "x", "model_a", 10),
            ("z", "y", "tie", 8),
            ("z", "y", "model_b", 12),
            ("y", "z", "model_b", 5),
        ]
    )
    mixed = from_rows(
        [
            ("x", "y", "model_a", 20),
            ("y", "x", "model_b", 10),
            ("x", "y", "model_b", 4),
            ("y", "x", "model_a", 6),
            ("y", "z", "tie", 8),
            ("y", "z", "model_a", 12),
            ("y", "z", "model_b", 5),
        ]
    )
    expected = ratings.fit_bt(forward)
    np.testing.assert_allclose(ratings.fit_bt(flipped), expected, atol=1e-8)
    np.testing.assert_allclose(ratings.fit_bt(mixed), expected, atol=1e-8)
    assert expected[0] > expected[1] > expected[2]


def test_ties_and_both_bad_count_as_half_a_win():
    with_ties = from_rows(
        [
            ("x", "y", "model_a", 10),
            ("x", "y", "tie", 6),
            ("x", "y", "tie (bothbad)", 4),
            ("y", "z", "model_a", 7),
            ("y", "z", "model_b", 3),
        ]
    )
    halves = from_rows(
        [("x", "y", "model_a", 15), ("x", "y", "model_b", 5), ("y", "z", "model_a", 7), ("y", "z", "model_b", 3)]
    )
    # 10 wins + 10 ties = 15 points of 20 either way: same likelihood, same scores.
    np.testing.assert_allclose(ratings.fit_bt(with_ties), ratings.fit_bt(halves), atol=1e-8)
    row = by_model(ratings.leaderboard(with_ties, rounds=0))["x"]
    assert (row.votes, row.wins, row.losses, row.ties) == (20, 10, 0, 10)
    assert row.win_rate == pytest.approx(0.75)


def test_two_models_have_closed_form_scores():
    # 75 % score -> 400*log10(3) points apart (up to the weak prior), mean 1000.
    counts = from_rows([("x", "y", "model_a", 5000), ("x", "y", "model_b", 1000), ("y", "x", "tie", 2000)])
    x, y = ratings.fit_bt(counts)
    assert x + y == pytest.approx(2000.0)
    assert x - y == pytest.approx(400 * math.log10(3), abs=0.05)


def test_mean_anchor_and_scale_match_bradley_terry():
    rng = np.random.default_rng(5)
    truth = arena_truth(rng)
    counts = from_rows(simulate(rng, truth, 200_000))
    scores = ratings.fit_bt(counts)
    assert scores.mean() == pytest.approx(1000.0)
    assert np.abs(scores - truth).max() < 10  # sampling error only, ~3 points SE here


def test_order_recovered_from_20k_votes():
    rng = np.random.default_rng(2024)
    truth = arena_truth(rng)
    counts = from_rows(simulate(rng, truth, 20_000))
    board = ratings.leaderboard(counts, rounds=200)
    fitted = np.array([by_model(board)[f"m{i:02d}"].score for i in range(len(truth))])
    assert spearman(fitted, truth) >= 0.95
    assert [r.score for r in board] == sorted((r.score for r in board), reverse=True)


def test_interval_coverage_of_true_centred_scores():
    rng = np.random.default_rng(7)
    covered = total = 0
    widths = []
    for rep in range(100):
        truth = arena_truth(rng)
        counts = from_rows(simulate(rng, truth, 3000))
        for r in ratings.leaderboard(counts, rounds=200, seed=rep):
            t = truth[int(r.model[1:])]
            covered += r.lower <= t <= r.upper
            total += 1
            widths.append(r.upper - r.lower)
    assert total == 1000
    assert 0.90 <= covered / total <= 0.98, covered / total
    assert 20 < np.median(widths) < 200  # sanity: a few thousand votes give tens of points


def test_bootstrap_is_deterministic_per_seed():
    rng = np.random.default_rng(3)
    counts = from_rows(simulate(rng, arena_truth(rng, 6), 2000))
    one = ratings.bootstrap_bt(counts, rounds=50, seed=11)
    assert one.shape == (50, 6)
    np.testing.assert_array_equal(one, ratings.bootstrap_bt(counts, rounds=50, seed=11))
    assert not np.array_equal(one, ratings.bootstrap_bt(counts, rounds=50, seed=12))
    np.testing.assert_allclose(one.mean(axis=1), 1000.0)
    assert ratings.leaderboard(counts, rounds=50, seed=11) == ratings.leaderboard(counts, rounds=50, seed=11)


def test_bootstrap_is_a_multinomial_over_the_votes_pooled_by_unordered_pair():
    rng = np.random.default_rng(4)
    counts = from_rows(simulate(rng, arena_truth(rng, 5), 1000))
    merged = {}
    for a, b, outcome, n in zip(counts.a, counts.b, counts.outcome, counts.count):
        key = (a, b, outcome) if a < b else (b, a, 1.0 - outcome)
        merged[key] = merged.get(key, 0.0) + n
    keys = sorted(merged)
    pooled = dataclasses.replace(
        counts,
        a=np.array([k[0] for k in keys]),
        b=np.array([k[1] for k in keys]),
        outcome=np.array([k[2] for k in keys]),
        count=np.array([merged[k] for k in keys]),
    )
    assert len(pooled) < len(counts)
    draw = np.random.default_rng(0).multinomial(n=counts.total, pvals=pooled.count / pooled.count.sum(), size=20)
    expected = np.stack([ratings.fit_bt(dataclasses.replace(pooled, count=w.astype(float))) for w in draw])
    np.testing.assert_allclose(ratings.bootstrap_bt(counts, rounds=20, seed=0), expected, atol=1e-6)
    np.testing.assert_allclose(ratings.fit_bt(counts), ratings.fit_bt(pooled), atol=1e-9)


def test_showing_a_vote_the_other_way_round_changes_nothing():
    rng = np.random.default_rng(5)
    rows = simulate(rng, arena_truth(rng, 5), 800)
    flip = {"model_a": "model_b", "model_b": "model_a", "tie": "tie", "tie (bothbad)": "tie (bothbad)"}
    mirrored = [(b, a, flip[w], n) if k % 2 else (a, b, w, n) for k, (a, b, w, n) in enumerate(rows)]
    assert ratings.leaderboard(from_rows(rows), rounds=200) == ratings.leaderboard(from_rows(mirrored), rounds=200)


def test_bootstrap_agrees_with_fastchats_row_level_draw_within_monte_carlo_error():
    """FastChat draws its multinomial over (model_a, model_b, outcome) rows; pooling those rows
    by pair must not change the bootstrap distribution (only the random stream)."""
    rng = np.random.default_rng(6)
    counts = from_rows(simulate(rng, arena_truth(rng, 6), 3000))
    rounds = 4000
    ours = ratings.bootstrap_bt(counts, rounds=rounds, seed=1)
    rows_draw = np.random.default_rng(2).multinomial(
        n=counts.total, pvals=counts.count / counts.count.sum(), size=rounds
    )
    theirs = bradley_terry.to_scores(bradley_terry._fit_theta(counts, rows_draw, ratings.PRIOR_TIES))
    # standard errors at 4000 rounds: ~0.6 points for a 2.5 % quantile, ~1.1 % for a spread
    np.testing.assert_allclose(
        np.percentile(ours, [2.5, 97.5], axis=0), np.percentile(theirs, [2.5, 97.5], axis=0), atol=3.0
    )
    np.testing.assert_allclose(ours.std(axis=0), theirs.std(axis=0), rtol=0.05)
    assert 10 < np.median(ours.std(axis=0)) < 40  # the scale the tolerances above assume


# --- leaderboard semantics ------------------------------------------------------------------


def test_rank_ub_on_hand_made_board():
    # top >> (mid1 ~ mid2) >> low, with lots of votes so the intervals are narrow.
    rows = []
    for winner, loser, n in [
        ("top", "mid1", 900),
        ("top", "mid2", 900),
        ("top", "low", 990),
        ("mid1", "low", 900),
        ("mid2", "low", 900),
    ]:
        rows += [(winner, loser, "model_a", n), (winner, loser, "model_b", 1000 - n)]
    rows += [("mid1", "mid2", "model_a", 500), ("mid1", "mid2", "model_b", 500)]
    board = ratings.leaderboard(from_rows(rows), rounds=300)
    ranks = {r.model: r.rank_ub for r in board}
    assert ranks == {"top": 1, "mid1": 2, "mid2": 2, "low": 4}
    for r in board:  # the definition, literally
        assert r.rank_ub == 1 + sum(o.lower > r.upper for o in board)
        assert r.lower <= r.upper


def test_min_votes_hides_models_and_preliminary_flags_them():
    rows = [
        ("a", "b", "model_a", 60),
        ("a", "b", "model_b", 40),
        ("b", "c", "model_a", 30),
        ("c", "a", "tie", 10),
        ("d", "a", "model_b", 5),
    ]
    counts = from_rows(rows)
    full = by_model(ratings.leaderboard(counts, rounds=100))
    assert set(full) == {"a", "b", "c", "d"}
    assert {m: r.votes for m, r in full.items()} == {"a": 115, "b": 130, "c": 40, "d": 5}
    board = by_model(ratings.leaderboard(counts, rounds=100, min_votes=10, preliminary_below=100))
    assert set(board) == {"a", "b", "c"}
    assert {m: r.preliminary for m, r in board.items()} == {"a": False, "b": False, "c": True}
    assert np.mean([r.score for r in board.values()]) == pytest.approx(1000.0)  # anchored on listed models
    assert ratings.leaderboard(counts, min_votes=1000) == []


def test_a_model_that_always_wins_is_finite_and_on_top():
    rows = [("champ", other, "model_a", 40) for other in ("b", "c", "d")]
    rows += [
        ("b", "c", "model_a", 30),
        ("b", "c", "model_b", 20),
        ("c", "d", "model_a", 25),
        ("c", "d", "model_b", 25),
        ("d", "b", "tie", 10),
    ]
    board = ratings.leaderboard(from_rows(rows), rounds=200)
    assert board[0].model == "champ" and board[0].win_rate == 1.0
    for r in board:
        assert all(math.isfinite(x) for x in (r.score, r.lower, r.upper))
    assert board[0].score - board[1].score < 2000  # large but not absurd
    assert board[0].rank_ub == 1
    # and one that always loses, against a single opponent, with a single vote
    loser = ratings.leaderboard(from_rows([("x", "y", "model_a", 1)]), rounds=50)
    assert [r.model for r in loser] == ["x", "y"]
    assert all(math.isfinite(v) for r in loser for v in (r.score, r.lower, r.upper))


def test_disconnected_models_are_finite_with_wide_intervals():
    rng = np.random.default_rng(9)
    main = simulate(rng, arena_truth(rng, 5), 5000)
    island = [("island1", "island2", "model_a", 30), ("island1", "island2", "model_b", 10)]
    counts = from_rows(main + island)
    board = by_model(ratings.leaderboard(counts, rounds=200, preliminary_below=0))
    assert all(math.isfinite(v) for r in board.values() for v in (r.score, r.lower, r.upper))
    lows, highs = [r.lower for r in board.values()], [r.upper for r in board.values()]
    for name in ("island1", "island2"):
        r = board[name]
        assert not r.connected and r.preliminary
        assert (r.lower, r.upper) == (min(lows), max(highs))  # could be anywhere on the board
        assert r.rank_ub == 1
    assert board["island1"].score > board["island2"].score
    connected = [r for r in board.values() if r.connected]
    assert len(connected) == 5 and not any(r.preliminary for r in connected)
    assert np.mean([r.score for r in connected]) == pytest.approx(1000.0)


def test_ratings_are_json_ready():
    counts = from_rows([("a", "b", "model_a", 3), ("b", "c", "tie", 2), ("c", "a", "model_b", 1)])
    rows = [dataclasses.asdict(r) for r in ratings.leaderboard(counts, rounds=20)]
    assert json.loads(json.dumps(rows)) == rows
    assert {type(v) for r in rows for v in r.values()} <= {str, float, int, bool}


# --- pairwise matrices and online Elo -------------------------------------------------------


def test_pairwise_matrices():
    counts = from_rows(
        [
            ("a", "b", "model_a", 3),
            ("b", "a", "model_a", 1),
            ("a", "b", "tie", 2),
            ("b", "c", "tie (bothbad)", 4),
            ("c", "b", "model_b", 1),
        ]
    )
    mats = ratings.pairwise_matrices(counts)
    assert json.loads(json.dumps(mats)) == mats
    assert mats["models"] == ["a", "b", "c"]
    assert mats["battles"] == [[0, 6, 0], [6, 0, 5], [0, 5, 0]]
    rate = mats["win_rate"]
    assert rate[0][1] == pytest.approx((3 + 1) / 6) and rate[1][0] == pytest.approx((1 + 1) / 6)
    assert rate[1][2] == pytest.approx((2 + 1) / 5) and rate[2][1] == pytest.approx(2 / 5)
    assert rate[0][2] is None and rate[2][0] is None
    assert all(rate[i][i] is None for i in range(3))


def test_online_elo_matches_hand_computation():
    votes = [("a", "b", "model_a"), ("b", "c", "tie"), ("c", "a", "tie (bothbad)")]
    # 1: a, b start at 1000; E_a = 0.5; a += 4 * 0.5 -> a 1002, b 998
    a, b, c = 1002.0, 998.0, 1000.0
    # 2: b (998) ties c (1000): E_b = 1 / (1 + 10 ** (2 / 400))
    update = 4 * (0.5 - 1 / (1 + 10 ** ((c - b) / 400)))
    b, c = b + update, c - update
    # 3: c ties a (both bad)
    update = 4 * (0.5 - 1 / (1 + 10 ** ((a - c) / 400)))
    c, a = c + update, a - update
    got = ratings.online_elo(votes)
    assert got == pytest.approx({"a": a, "b": b, "c": c}, abs=1e-12)
    assert sum(got.values()) == pytest.approx(3000.0)
    assert got["a"] == pytest.approx(1001.98842, abs=1e-5)
    assert ratings.online_elo([("a", "b", "model_b")], k=32) == {"a": 984.0, "b": 1016.0}
    with pytest.raises(ValueError):
        ratings.online_elo([("a", "b", "left")])


# --- independent cross-check and speed ------------------------------------------------------


def fastchat_bt(counts: PairCounts) -> np.ndarray:
    """FastChat's fit, written from its description: L-BFGS on the weighted logistic loss,
    alpha = ln 10, init zeros, no regularisation; scores 400 * r, then mean-anchored."""
    from scipy import optimize  # a test dependency (pyproject [test])

    alpha = math.log(10.0)
    matchups = np.stack([counts.a, counts.b], axis=1)
    y, w = counts.outcome, counts.count / counts.count.sum()

    def loss_and_grad(r):
        logits = alpha * (r[matchups[:, 0]] - r[matchups[:, 1]])
        p = 1.0 / (1.0 + np.exp(-logits))
        loss = -((np.log(p) * y + np.log(1.0 - p) * (1.0 - y)) * w).sum()
        g_rows = -alpha * (y - p) * w
        grad = np.zeros_like(r)
        np.add.at(grad, matchups[:, 0], g_rows)
        np.add.at(grad, matchups[:, 1], -g_rows)
        return loss, grad

    res = optimize.minimize(
        loss_and_grad,
        np.zeros(len(counts.models)),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-15},
    )
    scores = 400.0 * res.x
    return scores - scores.mean() + 1000.0


@pytest.mark.parametrize("n_votes, seed", [(3_000, 2), (20_000, 1), (100_000, 3)])
def test_matches_independent_lbfgs_fit(n_votes, seed):
    rng = np.random.default_rng(seed)
    counts = from_rows(simulate(rng, arena_truth(rng), n_votes))
    reference = fastchat_bt(counts)
    assert np.abs(ratings.fit_bt(counts) - reference).max() <= 0.5
    assert ratings.leaderboard(counts, rounds=0)[0].model == counts.models[int(np.argmax(reference))]


def test_twenty_models_thousand_rounds_is_fast():
    rng = np.random.default_rng(0)
    truth = np.linspace(750, 1250, 20)
    counts = from_rows(simulate(rng, truth, 1_000_000))
    assert 500 <= len(counts) <= 3 * 20 * 19
    ratings.leaderboard(counts, rounds=10)  # warm up
    started = time.perf_counter()
    board = ratings.leaderboard(counts, rounds=1000)
    elapsed = time.perf_counter() - started
    assert len(board) == 20
    assert elapsed < 2.0, f"{elapsed:.2f} s (well under 1 s expected on an idle 2-core machine)"
