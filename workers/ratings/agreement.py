"""How well each automatic measurement agrees with the voters. Pure numpy/scipy, no Django.

Two views per metric:

* **Pairwise accuracy** -- over the counted votes where the voter picked a side, both clips
  have the metric and its values differ: the share of votes won by the clip the metric
  prefers (the higher value; pass ``higher_is_better=False`` for a metric where lower is
  better). Vote ties and metric ties are excluded, as in the "pairwise accuracy" used to
  compare automatic metrics with human preference. 0.5 = no better than a coin. Interval:
  95 % percentile bootstrap over votes. For a share the bootstrap has a closed form --
  resampling ``n`` votes with replacement draws the agreeing count from Binomial(n, k/n) --
  so the rounds are binomial draws, not resampled arrays.
* **Rank correlation** -- Kendall's tau-b and Spearman's rho (``scipy.stats``) between the
  models ordered by the metric's median over each model's clips and the Bradley-Terry
  order. With few models these are noisy; the p-values say how much.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_ROUNDS = 2000


@dataclass(frozen=True)
class PairwiseAccuracy:
    """``agree`` of ``battles`` decisive votes went to the clip the metric prefers."""

    battles: int
    agree: int
    accuracy: float | None  # None without any usable vote
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class RankCorrelation:
    models: int  # models with both a median and a rating
    kendall_tau: float | None  # None with fewer than 3 models, or a constant order
    kendall_p: float | None
    spearman_rho: float | None
    spearman_p: float | None


@dataclass(frozen=True)
class MetricAgreement:
    """One metric's row on the agreement page (plain types: ``dataclasses.asdict`` is JSON-ready)."""

    metric: str
    battles: int
    agree: int
    accuracy: float | None
    lower: float | None
    upper: float | None
    models: int
    kendall_tau: float | None
    kendall_p: float | None
    spearman_rho: float | None
    spearman_p: float | None


def pairwise_accuracy(
    value_a: np.ndarray,
    value_b: np.ndarray,
    outcome: np.ndarray,
    count: np.ndarray | None = None,
    *,
    higher_is_better: bool = True,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed=0,
) -> PairwiseAccuracy:
    """Pairwise accuracy of one metric. ``value_a``/``value_b``: the metric on each vote's
    clip A and clip B (NaN = not measured); ``outcome``: A's score (1, 0.5, 0); ``count``:
    votes per row (default 1)."""
    va = np.asarray(value_a, dtype=np.float64)
    vb = np.asarray(value_b, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    w = np.ones(len(y)) if count is None else np.asarray(count, dtype=np.float64)
    if not (va.shape == vb.shape == y.shape == w.shape):
        raise ValueError("value_a, value_b, outcome and count must have one entry per vote row")
    if not np.isin(y, (0.0, 0.5, 1.0)).all():
        raise ValueError("outcome must be 1 (A won), 0.5 (tie) or 0 (B won)")
    usable = np.isfinite(va) & np.isfinite(vb) & (va != vb) & (y != 0.5) & (w > 0)
    prefers_a = (va > vb) if higher_is_better else (va < vb)
    agreed = usable & (prefers_a == (y == 1.0))
    n = int(round(float(w[usable].sum())))
    k = int(round(float(w[agreed].sum())))
    if n == 0:
        return PairwiseAccuracy(battles=0, agree=0, accuracy=None, lower=None, upper=None)
    share = k / n
    draws = np.random.default_rng(seed).binomial(n, share, size=rounds) / n
    lower, upper = np.percentile(draws, [2.5, 97.5]) if rounds else (share, share)
    return PairwiseAccuracy(battles=n, agree=k, accuracy=share, lower=float(lower), upper=float(upper))


def rank_correlation(metric_by_model: Mapping[str, float], score_by_model: Mapping[str, float]) -> RankCorrelation:
    """Kendall tau-b and Spearman rho between a metric's per-model value (e.g. its median) and
    the models' ratings, over the models having both (NaN metric values are left out)."""
    common = sorted(
        m for m in metric_by_model.keys() & score_by_model.keys() if math.isfinite(float(metric_by_model[m]))
    )
    x = np.array([float(metric_by_model[m]) for m in common])
    y = np.array([float(score_by_model[m]) for m in common])
    if len(common) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return RankCorrelation(len(common), None, None, None, None)
    tau = stats.kendalltau(x, y)
    rho = stats.spearmanr(x, y)
    return RankCorrelation(
        models=len(common),
        kendall_tau=float(tau.statistic),
        kendall_p=float(tau.pvalue),
        spearman_rho=float(rho.statistic),
        spearman_p=float(rho.pvalue),
    )


def model_medians(clip_model: np.ndarray, clip_value: np.ndarray) -> dict[str, float]:
    """Median of a metric over each model's clips (unmeasured clips, NaN, left out)."""
    models = np.asarray(clip_model, dtype=object)
    values = np.asarray(clip_value, dtype=np.float64)
    out = {}
    for name in sorted(set(models.tolist())):
        v = values[(models == name) & np.isfinite(values)]
        if v.size:
            out[str(name)] = float(np.median(v))
    return out


def metric_agreement(
    metric: str,
    value_a: np.ndarray,
    value_b: np.ndarray,
    outcome: np.ndarray,
    count: np.ndarray | None,
    metric_by_model: Mapping[str, float],
    score_by_model: Mapping[str, float],
    *,
    higher_is_better: bool = True,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed=0,
) -> MetricAgreement:
    """Both views for one metric, as one row."""
    acc = pairwise_accuracy(
        value_a, value_b, outcome, count, higher_is_better=higher_is_better, rounds=rounds, seed=seed
    )
    sign = 1.0 if higher_is_better else -1.0
    corr = rank_correlation({m: sign * v for m, v in metric_by_model.items()}, score_by_model)
    return MetricAgreement(
        metric=metric,
        battles=acc.battles,
        agree=acc.agree,
        accuracy=acc.accuracy,
        lower=acc.lower,
        upper=acc.upper,
        models=corr.models,
        kendall_tau=corr.kendall_tau,
        kendall_p=corr.kendall_p,
        spearman_rho=corr.spearman_rho,
        spearman_p=corr.spearman_p,
    )
