"""The simulation under pair_sampling.py: the two ratings engines it can use, simulated arenas
with known strengths, and the oracle bound on what any allocation of votes could save.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from workers.ratings.sampling import ModelState

LN10 = math.log(10.0)
TIE_RATE = 0.10


# ------------------------------------------------------------------------- ratings engines


class InternalEngine:
    """Fallback: vectorised BT MAP (tiny ridge) + FastChat-style multinomial bootstrap."""

    name = "internal vectorised BT + multinomial bootstrap (benchmarks/pair_sampling.py)"

    def fit(self, rows, rounds, seed):
        keys = sorted({m for r in rows for m in r[:2]})
        index = {k: i for i, k in enumerate(keys)}
        m = len(keys)
        a = np.array([index[r[0]] for r in rows])
        b = np.array([index[r[1]] for r in rows])
        out = np.array([{"model_a": 1.0, "model_b": 0.0}.get(r[2], 0.5) for r in rows])
        cnt = np.array([r[3] for r in rows], dtype=float)
        rng = np.random.default_rng(seed)
        weights = np.vstack([cnt, rng.multinomial(int(cnt.sum()), cnt / cnt.sum(), size=rounds)])
        # per round: S[i, j] = points of i against j
        S = np.zeros((weights.shape[0], m, m))
        np.add.at(S, (slice(None), a, b), weights * out)
        np.add.at(S, (slice(None), b, a), weights * (1.0 - out))
        n = S + S.transpose(0, 2, 1)
        theta = np.zeros((weights.shape[0], m))
        eye = np.eye(m)
        for _ in range(60):
            q = 1.0 / (1.0 + np.exp(-(theta[:, :, None] - theta[:, None, :])))
            grad = (S - n * q).sum(axis=2) - 1e-3 * theta
            w = n * q * (1.0 - q)
            hess = -w + eye * (w.sum(axis=2)[:, :, None] + 1e-3) + 1.0 / m
            step = np.clip(np.linalg.solve(hess, grad[..., None])[..., 0], -2.0, 2.0)
            theta += step
            theta -= theta.mean(axis=1, keepdims=True)
            if np.abs(step).max() < 1e-9:
                break
        scores = 1000.0 + theta * 400.0 / LN10
        lower, upper = np.percentile(scores[1:], [2.5, 97.5], axis=0)
        return {k: (scores[0, i], lower[i], upper[i]) for i, k in enumerate(keys)}, keys, scores[1:]


class WebappEngine:
    """workers/ratings/: leaderboard() for the board, bootstrap_bt() (same seed, same
    multinomial draws, same anchor here) for the neighbour-gap intervals."""

    name = "workers/ratings/ (from_rows + leaderboard; bootstrap_bt for gap intervals)"

    def __init__(self, module):
        self.r = module

    def fit(self, rows, rounds, seed):
        counts = self.r.from_rows(rows)
        board = self.r.leaderboard(counts, rounds=rounds, seed=seed)
        boot = self.r.bootstrap_bt(counts, rounds, seed) if hasattr(self.r, "bootstrap_bt") else None
        return {x.model: (x.score, x.lower, x.upper) for x in board}, list(counts.models), boot


def pick_engine(choice: str):
    if choice == "internal":
        return InternalEngine(), "forced by --ratings internal"
    try:
        from workers import ratings as module

        engine = WebappEngine(module)
        # sanity check against the internal engine on a small synthetic board
        rng = np.random.default_rng(7)
        rows = _simulate_rows(rng, np.array([1200.0, 1100.0, 1000.0, 900.0]), 2000)
        mine, _, _ = InternalEngine().fit(rows, 50, 1)
        theirs, _, _ = engine.fit(rows, 50, 1)
        worst = max(abs(mine[k][0] - theirs[k][0]) for k in mine)
        if worst > 2.0:
            raise RuntimeError(f"scores differ from the internal BT fit by {worst:.1f} points")
        return engine, f"imported and sanity-checked (max point-score difference vs internal fit {worst:.2f})"
    except Exception as exc:
        if choice == "webapp":
            raise
        return InternalEngine(), f"workers/ratings/ unusable ({exc!r}); using the fallback"


# ------------------------------------------------------------------------- simulation


def _outcome(rng, s_a, s_b):
    u = rng.random()
    if u < TIE_RATE:
        return "tie" if u < TIE_RATE / 2 else "tie (bothbad)"
    p = 1.0 / (1.0 + 10.0 ** ((s_b - s_a) / 400.0))
    return "model_a" if rng.random() < p else "model_b"


def _simulate_rows(rng, strengths, n):
    keys = [f"m{i}" for i in range(len(strengths))]
    tally = {}
    for _ in range(n):
        i, j = rng.choice(len(strengths), 2, replace=False)
        label = _outcome(rng, strengths[i], strengths[j])
        tally[(keys[i], keys[j], label)] = tally.get((keys[i], keys[j], label), 0) + 1
    return [(a, b, w, c) for (a, b, w), c in tally.items()]


def true_strengths(rng, n_models=10, spread_range=(400.0, 600.0)):
    z = np.sort(rng.standard_normal(n_models))[::-1]
    spread = rng.uniform(*spread_range)
    s = (z - z.mean()) / (z.max() - z.min()) * spread
    return 1000.0 + s, spread


def spearman(x, y):
    rx = np.argsort(np.argsort(x)).astype(float)
    ry = np.argsort(np.argsort(y)).astype(float)
    return float(np.corrcoef(rx, ry)[0, 1])


class Arena:
    """Vote tallies for one strategy in one repetition."""

    def __init__(self, keys, strengths):
        self.keys = list(keys)
        self.s = dict(zip(keys, strengths))
        self.tally = {}
        self.pair_counts = {}
        self.battles = dict.fromkeys(keys, 0)
        self.votes = 0

    def vote(self, rng, a, b):
        label = _outcome(rng, self.s[a], self.s[b])
        self.tally[(a, b, label)] = self.tally.get((a, b, label), 0) + 1
        pk = frozenset((a, b))
        self.pair_counts[pk] = self.pair_counts.get(pk, 0) + 1
        self.battles[a] += 1
        self.battles[b] += 1
        self.votes += 1

    def rows(self):
        return [(a, b, w, c) for (a, b, w), c in self.tally.items()]

    def clone(self):
        other = Arena(self.keys, [self.s[k] for k in self.keys])
        other.tally = dict(self.tally)
        other.pair_counts = dict(self.pair_counts)
        other.battles = dict(self.battles)
        other.votes = self.votes
        return other


def measure(engine, arena, rounds, seed, order):
    """Fit; return (states, metrics). `order` = keys sorted by true strength, best first."""
    board, boot_keys, boot = engine.fit(arena.rows(), rounds, seed)
    states = [
        ModelState(k, *board[k], battles=arena.battles[k]) if k in board else ModelState(k, battles=arena.battles[k])
        for k in arena.keys
    ]
    widths = [board[k][2] - board[k][1] for k in order if k in board]
    metrics = {"width": float(np.mean(widths))}
    rated = [k for k in order if k in board]
    metrics["spearman"] = spearman([arena.s[k] for k in rated], [board[k][0] for k in rated])
    if boot is not None:
        col = {k: i for i, k in enumerate(boot_keys)}
        gaps = np.array([boot[:, col[a]] - boot[:, col[b]] for a, b in zip(rated, rated[1:])])
        lo, hi = np.percentile(gaps, [2.5, 97.5], axis=1)
        metrics["gap"] = float(np.mean(hi - lo))
        metrics["resolved"] = float(np.mean((lo > 0) | (hi < 0)))
    return states, metrics


def votes_to_reach(curve_votes, curve_width, target):
    """First crossing of `target`, log-log interpolated; None if never reached."""
    v = np.asarray(curve_votes, float)
    w = np.asarray(curve_width, float)
    below = np.flatnonzero(w <= target)
    if below.size == 0:
        return None
    k = below[0]
    if k == 0:
        return float(v[0])
    x0, x1, y0, y1 = np.log(v[k - 1]), np.log(v[k]), np.log(w[k - 1]), np.log(w[k])
    t = (np.log(target) - y0) / (y1 - y0)
    return float(np.exp(x0 + t * (x1 - x0)))


# ------------------------------------------------------------------------- oracle bound


def oracle_allocation(strengths, iters=1500):
    """Best static share of votes per pair (index order of itertools.combinations) for the
    asymptotic mean width, knowing the true strengths; and its vote saving vs uniform."""
    m = len(strengths)
    pairs = np.array(list(itertools.combinations(range(m), 2)))
    d = strengths[pairs[:, 0]] - strengths[pairs[:, 1]]
    p = 1.0 / (1.0 + 10.0 ** (-d / 400.0))
    info = p * (1.0 - p)

    def width_and_grad(alloc):
        lap = np.zeros((m, m))
        ww = info * alloc
        np.add.at(lap, (pairs[:, 0], pairs[:, 0]), ww)
        np.add.at(lap, (pairs[:, 1], pairs[:, 1]), ww)
        np.add.at(lap, (pairs[:, 0], pairs[:, 1]), -ww)
        np.add.at(lap, (pairs[:, 1], pairs[:, 0]), -ww)
        cov = np.linalg.pinv(lap)  # covariance of the mean-anchored MLE, up to 1/votes
        sd = np.sqrt(np.diag(cov))
        diff = cov[:, pairs[:, 0]] - cov[:, pairs[:, 1]]
        grad = -(info * ((0.5 / sd)[:, None] * diff**2).sum(axis=0)) / m
        return sd.mean(), grad

    alloc = np.full(len(pairs), 1.0 / len(pairs))
    uniform_w, _ = width_and_grad(alloc)
    for _ in range(iters):  # exponentiated gradient on the simplex
        _, g = width_and_grad(alloc)
        g = g - np.dot(g, alloc)
        alloc = alloc * np.exp(-0.05 * g / np.abs(g).max())
        alloc /= alloc.sum()
    best_w, _ = width_and_grad(alloc)
    return alloc, 1.0 - (best_w / uniform_w) ** 2
