"""The leaderboard from vote counts: Bradley-Terry scores with bootstrap intervals, Rank (UB),
tallies and the pairwise heat-map matrices (method in workers/ratings/bradley_terry.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bradley_terry import PRIOR_TIES, fit_point_and_bootstrap, to_scores
from .counts import PairCounts


@dataclass(frozen=True)
class Rating:
    """One leaderboard row. Plain Python types only, so ``dataclasses.asdict`` is JSON-ready.

    ``wins``/``losses``/``ties`` count votes (both tie labels are ties); ``win_rate`` is
    ``(wins + ties / 2) / votes``; ``connected`` is False for a model outside the main
    connected component of the comparison graph (its interval then spans the whole board).
    """

    model: str
    score: float
    lower: float
    upper: float
    rank_ub: int
    votes: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    preliminary: bool
    connected: bool = True


def _tallies(counts: PairCounts) -> dict[str, np.ndarray]:
    m = len(counts.models)
    c, o = counts.count, counts.outcome

    def per_model(a_weights, b_weights):
        return np.bincount(counts.a, a_weights, m) + np.bincount(counts.b, b_weights, m)

    return {
        "votes": per_model(c, c),
        "wins": per_model(c * (o == 1.0), c * (o == 0.0)),
        "losses": per_model(c * (o == 0.0), c * (o == 1.0)),
        "ties": per_model(c * (o == 0.5), c * (o == 0.5)),
    }


def main_component(counts: PairCounts, votes: np.ndarray) -> np.ndarray:
    """Boolean mask of the connected component (of the comparison graph) with most votes."""
    m = len(counts.models)
    parent = list(range(m))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(counts.a.tolist(), counts.b.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(x) for x in range(m)], dtype=np.intp)
    if m == 0:
        return np.zeros(0, bool)
    comp_votes = np.bincount(roots, votes, m)
    return roots == int(np.argmax(comp_votes))  # argmax: first (lowest root) on a tie


def leaderboard(
    counts: PairCounts,
    *,
    rounds: int = 1000,
    seed=0,
    min_votes: int = 1,
    preliminary_below: int = 0,
    prior: float = PRIOR_TIES,
) -> list[Rating]:
    """Ratings of every model with at least ``min_votes`` votes, best score first.

    All models are fitted (an unlisted model's votes still inform the others); the scores
    are anchored so that the mean over listed models of the main component is 1000, in the
    point estimate and in every bootstrap round. ``lower``/``upper`` are the 2.5/97.5
    percentiles over ``rounds`` bootstrap rounds (``rounds=0``: both equal the score).
    ``rank_ub`` counts only listed models. ``preliminary`` if ``votes < preliminary_below``
    or the model is not connected to the main group. No votes: ``[]``.
    """
    m = len(counts.models)
    if m == 0:
        return []
    tallies = _tallies(counts)
    votes = tallies["votes"]
    listed = votes >= min_votes
    if not listed.any():
        return []
    main = main_component(counts, votes)
    anchor = listed & main

    theta, boot_theta = fit_point_and_bootstrap(counts, rounds, seed, prior)
    point, boot = to_scores(theta, anchor), to_scores(boot_theta, anchor)
    if rounds:
        lower, upper = np.percentile(boot, [2.5, 97.5], axis=0)
    else:
        lower, upper = point.copy(), point.copy()
    if (listed & ~main).any():
        lo_all, hi_all = lower[listed].min(), upper[listed].max()
        lower = np.where(main, lower, lo_all)
        upper = np.where(main, upper, hi_all)

    idx = np.flatnonzero(listed)
    rank_ub = 1 + (lower[idx][None, :] > upper[idx][:, None]).sum(axis=1)
    rows = []
    for k, i in enumerate(idx):
        v = int(round(votes[i]))
        wins, losses, ties = (int(round(tallies[key][i])) for key in ("wins", "losses", "ties"))
        rows.append(
            Rating(
                model=counts.models[i],
                score=float(point[i]),
                lower=float(lower[i]),
                upper=float(upper[i]),
                rank_ub=int(rank_ub[k]),
                votes=v,
                wins=wins,
                losses=losses,
                ties=ties,
                win_rate=(wins + 0.5 * ties) / v if v else 0.0,
                preliminary=bool(v < preliminary_below or not main[i]),
                connected=bool(main[i]),
            )
        )
    rows.sort(key=lambda r: (-r.score, r.model))
    return rows


def pairwise_matrices(counts: PairCounts) -> dict:
    """Heat-map data, JSON-serialisable.

    ``{"models": [...], "win_rate": [[...]], "battles": [[...]]}``: ``win_rate[r][c]`` is
    the share of row model's score against column model (ties as half), ``None`` where they
    never met (and on the diagonal); ``battles[r][c]`` is the number of votes between them
    (symmetric, 0 on the diagonal).
    """
    m = len(counts.models)
    battles = np.zeros((m, m))
    won = np.zeros((m, m))
    np.add.at(battles, (counts.a, counts.b), counts.count)
    np.add.at(battles, (counts.b, counts.a), counts.count)
    np.add.at(won, (counts.a, counts.b), counts.count * counts.outcome)
    np.add.at(won, (counts.b, counts.a), counts.count * (1.0 - counts.outcome))
    rate = [[float(won[r, c] / battles[r, c]) if battles[r, c] > 0 else None for c in range(m)] for r in range(m)]
    return {
        "models": list(counts.models),
        "win_rate": rate,
        "battles": [[int(round(x)) for x in row] for row in battles.tolist()],
    }
