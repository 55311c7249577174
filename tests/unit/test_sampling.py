"""Tests for workers/ratings/sampling.py: pure (numpy only), no database.

Run with: .venv/bin/python -m pytest tests/unit/test_sampling.py -q
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workers.ratings.sampling import Z95, ModelState, choose_pair, pair_weights

REPO_ROOT = Path(__file__).resolve().parents[2]


def rated(key, score, half_width, battles=100, is_new=False):
    return ModelState(key, score, score - half_width, score + half_width, battles, is_new)


def board():
    """A small mixed board: a close cluster, a far-away model, an unrated one."""
    return [
        rated("a", 1100.0, 30.0),
        rated("b", 1095.0, 30.0),
        rated("c", 1000.0, 20.0),
        rated("far", 700.0, 15.0),
        ModelState("new", battles=0),
    ]


def pk(a, b):
    return frozenset((a, b))


# --------------------------------------------------------------------------- weights


def test_every_pair_of_distinct_models_gets_a_positive_finite_weight():
    models = board()
    counts = {pk("a", "b"): 10_000, pk("c", "far"): 5}
    w = pair_weights(models, counts)
    expected = {(x.key, y.key) for x, y in itertools.combinations(models, 2)}
    assert set(w) == expected  # keys in `models` order, no self-pairs, each pair once
    assert all(v > 0 and math.isfinite(v) for v in w.values())


def test_weights_are_a_distribution_without_new_models_and_respect_the_floor():
    models = board()
    w = pair_weights(models, {pk("a", "b"): 50}, exploration=0.1)
    assert sum(w.values()) == pytest.approx(1.0)
    floor = 0.1 / len(w)
    assert min(w.values()) >= floor * (1 - 1e-12)


def test_floor_keeps_a_settled_far_pair_alive_even_when_it_is_hopeless():
    models = [rated("top", 1600.0, 2.0), rated("bottom", 400.0, 2.0), rated("x", 1000.0, 80.0)]
    w = pair_weights(models, {pk("top", "bottom"): 10**9}, exploration=0.05)
    assert w[("top", "bottom")] >= 0.05 / 3 * (1 - 1e-12)


def test_overlapping_close_pair_weighs_more_than_far_apart_settled_pair():
    models = [
        rated("a", 1010.0, 25.0),
        rated("b", 1000.0, 25.0),  # a-b: intervals overlap
        rated("c", 1400.0, 25.0),
        rated("d", 600.0, 25.0),  # c-d: 800 points apart, same interval widths
    ]
    w = pair_weights(models, {})
    assert w[("a", "b")] > 2 * w[("c", "d")]


def test_wider_intervals_weigh_more_at_the_same_gap():
    models = [rated("a", 1000.0, 20.0), rated("b", 1050.0, 20.0), rated("c", 1000.0, 60.0), rated("d", 1050.0, 60.0)]
    w = pair_weights(models, {})
    assert w[("c", "d")] > w[("a", "b")]


def test_fewer_battles_weigh_more_than_identical_pair_with_many():
    models = [rated("a", 1000.0, 30.0), rated("b", 1000.0, 30.0), rated("c", 1000.0, 30.0), rated("d", 1000.0, 30.0)]
    w = pair_weights(models, {pk("a", "b"): 400, pk("c", "d"): 4})
    assert w[("c", "d")] > w[("a", "b")]
    # and monotone in the count
    few, many = (pair_weights(models, {pk("a", "b"): n})[("a", "b")] for n in (1, 2))
    assert few > many


def test_new_model_pairs_are_boosted_by_the_factor():
    plain = board()
    flagged = [ModelState(m.key, m.score, m.lower, m.upper, m.battles, is_new=(m.key == "c")) for m in plain]
    w0 = pair_weights(plain, {})
    w1 = pair_weights(flagged, {}, new_model_boost=5.0)
    for pair in w0:
        factor = 5.0 if "c" in pair else 1.0
        assert w1[pair] == pytest.approx(factor * w0[pair])


def test_boost_applies_once_when_both_models_are_new():
    models = [rated("a", 1000.0, 30.0, is_new=True), rated("b", 1000.0, 30.0, is_new=True), rated("c", 1000.0, 30.0)]
    w = pair_weights(models, {}, new_model_boost=5.0)
    base = pair_weights([ModelState(m.key, m.score, m.lower, m.upper) for m in models], {})
    assert w[("a", "b")] == pytest.approx(5.0 * base[("a", "b")])


def test_boosted_new_model_is_drawn_more_often():
    models = [rated(k, 1000.0 + 10 * i, 30.0) for i, k in enumerate("abcdef")]
    boosted = [ModelState(m.key, m.score, m.lower, m.upper, is_new=(m.key == "f")) for m in models]

    def share(ms):
        rng = np.random.default_rng(3)
        draws = [choose_pair(ms, {}, rng) for _ in range(3000)]
        return sum("f" in d for d in draws) / len(draws)

    assert share(boosted) > share(models) + 0.3


def test_unrated_model_is_treated_as_maximally_uncertain():
    narrow = rated("x", 1000.0, 10.0)
    models_rated = [rated("a", 1000.0, 30.0), rated("b", 1020.0, 30.0), narrow]
    models_unrated = models_rated[:2] + [ModelState("x", battles=0)]
    w_rated = pair_weights(models_rated, {})
    w_unrated = pair_weights(models_unrated, {})
    assert w_unrated[("a", "x")] > w_rated[("a", "x")]
    # at least as uncertain as the widest rated model: pairs with it beat a-b
    assert w_unrated[("a", "x")] > w_unrated[("a", "b")]


@pytest.mark.parametrize(
    "broken",
    [
        ModelState("x", float("nan"), 990.0, 1010.0),
        ModelState("x", 1000.0, None, 1010.0),
        ModelState("x", 1000.0, 990.0, float("inf")),
        ModelState("x", 1000.0, 1010.0, 990.0),  # inverted interval
    ],
)
def test_incomplete_or_broken_rating_counts_as_unrated(broken):
    others = [rated("a", 1000.0, 30.0), rated("b", 1020.0, 30.0)]
    assert not broken.rated
    assert pair_weights(others + [broken], {}) == pair_weights(others + [ModelState("x")], {})


def test_all_unrated_board_is_uniform_up_to_pair_counts():
    models = [ModelState(k) for k in "abcd"]
    w = pair_weights(models, {})
    assert len(set(round(v, 12) for v in w.values())) == 1
    w = pair_weights(models, {pk("a", "b"): 3})
    assert w[("a", "b")] < w[("c", "d")]


def test_zero_width_interval_does_not_break_anything():
    models = [ModelState("a", 1000.0, 1000.0, 1000.0), ModelState("b", 1000.0, 1000.0, 1000.0)]
    w = pair_weights(models, {})
    assert w == {("a", "b"): pytest.approx(1.0)}


def reference_weights(models, pair_counts, boost=5.0, exploration=0.1, unrated_sigma=200.0, min_sigma=1.0):
    """The rule exactly as the module docstring states it, with a brute-force integral."""
    sig, mu = {}, {}
    rated_models = [m for m in models if m.rated]
    for m in rated_models:
        sig[m.key] = max(min_sigma, (m.upper - m.lower) / (2 * 1.959964))
        mu[m.key] = m.score
    fill_sigma = max([unrated_sigma] + [sig[m.key] for m in rated_models])
    fill_mu = sum(m.score for m in rated_models) / len(rated_models) if rated_models else 1000.0
    for m in models:
        sig.setdefault(m.key, fill_sigma)
        mu.setdefault(m.key, fill_mu)
    smax = max(sig.values())
    active = {}
    for x, y in itertools.combinations(models, 2):
        m, s = mu[x.key] - mu[y.key], math.hypot(sig[x.key], sig[y.key])
        d = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        p = 1 / (1 + 10 ** (-d / 400))
        density = np.exp(-0.5 * ((d - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        f = p * (1 - p) * density
        info = float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(d)))
        shrink = (sig[x.key] ** 3 + sig[y.key] ** 3) / (2 * smax**3)
        n = pair_counts.get(frozenset((x.key, y.key)), 0)
        active[(x.key, y.key)] = info * shrink / math.sqrt(1 + n)
    total = sum(active.values())
    out = {}
    for (a, b), v in active.items():
        base = (1 - exploration) * v / total + exploration / len(active)
        new = any(m.is_new for m in models if m.key in (a, b))
        out[(a, b)] = base * (boost if new else 1.0)
    return out


@pytest.mark.parametrize("exploration", [0.1, 0.3])
def test_weights_match_the_documented_rule(exploration):
    models = board()[:-1] + [ModelState("new", battles=3, is_new=True), rated("z", 1300.0, 120.0)]
    counts = {pk("a", "b"): 40, pk("c", "far"): 3, pk("new", "z"): 1}
    got = pair_weights(models, counts, exploration=exploration)
    want = reference_weights(models, counts, exploration=exploration)
    assert got.keys() == want.keys()
    for pair in want:
        assert got[pair] == pytest.approx(want[pair], rel=1e-6), pair
    assert Z95 == pytest.approx(1.959964, abs=1e-6)


def test_pair_counts_only_match_by_unordered_pair():
    models = [rated("a", 1000.0, 30.0), rated("b", 1000.0, 30.0), rated("c", 1000.0, 30.0)]
    w1 = pair_weights(models, {frozenset(("b", "a")): 9})
    w2 = pair_weights(models, {frozenset(("a", "b")): 9})
    assert w1 == w2
    assert w1[("a", "b")] < w1[("a", "c")]


def test_duplicate_keys_and_bad_parameters_are_rejected():
    with pytest.raises(ValueError):
        pair_weights([ModelState("a"), ModelState("a")], {})
    for kw in ({"exploration": 0.0}, {"exploration": 1.5}, {"new_model_boost": 0.0}, {"unrated_sigma": -1.0}):
        with pytest.raises(ValueError):
            pair_weights([ModelState("a"), ModelState("b")], {}, **kw)


def test_exploration_one_is_uniform():
    w = pair_weights(board(), {pk("a", "b"): 100}, exploration=1.0)
    assert all(v == pytest.approx(1 / 10) for v in w.values())


# --------------------------------------------------------------------------- choose_pair


@pytest.mark.parametrize("models", [[], [ModelState("only")], [rated("only", 1000.0, 20.0)]])
def test_empty_or_single_model_gives_none(models):
    assert pair_weights(models, {}) == {}
    assert choose_pair(models, {}, np.random.default_rng(0)) is None


def test_deterministic_for_a_seed():
    models = board()
    counts = {pk("a", "b"): 7}
    rng1, rng2 = np.random.default_rng(42), np.random.default_rng(42)
    seq1 = [choose_pair(models, counts, rng1) for _ in range(200)]
    seq2 = [choose_pair(models, counts, rng2) for _ in range(200)]
    assert seq1 == seq2
    assert len(set(seq1)) > 3  # and it is not stuck on one pair


def test_excluded_pairs_are_never_chosen():
    models = board()
    exclude = {pk("a", "b"), pk("a", "new"), pk("b", "new"), pk("c", "new")}
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(2000):
        pair = choose_pair(models, {}, rng, exclude=exclude)
        assert pair is not None and frozenset(pair) not in exclude
        seen.add(frozenset(pair))
    # everything else stays reachable (floor)
    all_pairs = {frozenset(p) for p in itertools.combinations([m.key for m in models], 2)}
    assert seen == all_pairs - exclude


def test_none_when_every_pair_is_excluded():
    models = board()
    everything = {frozenset(p) for p in itertools.combinations([m.key for m in models], 2)}
    assert choose_pair(models, {}, np.random.default_rng(0), exclude=everything) is None


def test_exclude_accepts_any_container():
    models = [rated("a", 1000.0, 30.0), rated("b", 1000.0, 30.0), rated("c", 1000.0, 30.0)]
    exclude = [pk("a", "b"), pk("a", "c")]  # a list works too
    rng = np.random.default_rng(5)
    assert {choose_pair(models, {}, rng, exclude=exclude) for _ in range(50)} == {("b", "c")}


def test_draw_frequencies_follow_the_weights():
    models = board()
    counts = {pk("a", "c"): 30}
    w = pair_weights(models, counts)
    total = sum(w.values())
    rng = np.random.default_rng(2024)
    n = 20_000
    draws = [choose_pair(models, counts, rng) for _ in range(n)]
    for pair, weight in w.items():
        p = weight / total
        observed = draws.count(pair) / n
        assert abs(observed - p) < 5 * math.sqrt(p * (1 - p) / n) + 1e-3


def test_keyword_arguments_reach_the_weights():
    models = board()
    rng = np.random.default_rng(0)
    # exploration=1 makes every pair equally likely
    draws = [choose_pair(models, {}, rng, exploration=1.0) for _ in range(5000)]
    counts = {p: draws.count(p) for p in set(draws)}
    assert len(counts) == 10 and min(counts.values()) > 380


def test_module_is_pure():
    code = "import sys, workers.ratings.sampling; sys.exit(1 if 'django' in sys.modules else 0)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
