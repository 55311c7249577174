"""Ratings math, Django-free: the caller aggregates votes in the database and passes counts.

counts.py (the input), bradley_terry.py (fit and bootstrap, with the method and its sources),
leaderboard.py (rows, intervals, Rank (UB), heat maps), style_control.py (Bradley-Terry with
covariates: the controlled board), agreement.py (automatic measurements against the votes), elo.py (live Elo), sampling.py (which
pair a voter should judge next). The names below are the public API.
"""

from .bradley_terry import ANCHOR, ELO_SCALE, PRIOR_TIES, bootstrap_bt, fit_bt
from .counts import OUTCOME, WINNERS, PairCounts, from_rows
from .elo import online_elo
from .leaderboard import Rating, leaderboard, pairwise_matrices

__all__ = [
    "WINNERS",
    "OUTCOME",
    "PRIOR_TIES",
    "ELO_SCALE",
    "ANCHOR",
    "PairCounts",
    "Rating",
    "from_rows",
    "fit_bt",
    "bootstrap_bt",
    "leaderboard",
    "pairwise_matrices",
    "online_elo",
]
