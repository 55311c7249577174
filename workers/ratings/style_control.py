"""Controlled ratings ("style control" for video): Bradley-Terry with covariates.

Pure numpy, no Django. The caller passes one row per distinct battle -- the two models, the
outcome for model A, the raw covariates of both clips and how many votes had exactly that
row -- and gets back ratings with 95 % intervals plus each covariate's coefficient.

Method (LMArena's style control, FastChat ``fastchat/serve/monitor/rating_systems.py``,
``preprocess_for_style`` / ``fit_contextual_bt`` / ``compute_style_control``):

* logit P(A wins) = ``theta_A - theta_B + z . beta``, ``z`` the battle's covariates: the
  normalised difference between clip A and clip B, then z-scored over the votes (mean and
  population standard deviation, vote-weighted), exactly as FastChat z-scores its style
  features, so each ``beta`` is "per one standard deviation of that difference";
* ties (``tie`` and ``tie (bothbad)``) are half a win and half a loss (outcome 0.5 in the
  cross-entropy), FastChat's default (``exclude_tie=False`` in ``elo_analysis.py``);
* L2 penalty ``lam/2 * |beta|^2`` on the covariate coefficients, ``lam`` = 0.5 as
  FastChat's ``reg=0.5`` (its gradient ``reg * params``). FastChat also puts that penalty
  on the ratings; here the ratings instead get this project's weak prior of
  :mod:`workers.ratings.bradley_terry` (``prior`` virtual ties per model against a
  reference at 0), so that a controlled and a raw board differ only by the covariates;
  with more than a few hundred votes both choices move ratings by far less than a point;
* scores ``400/ln 10 * theta`` shifted so the mean over the listed models is 1000, as the
  raw board.

Covariates (:data:`COVARIATES`), chosen for video, all antisymmetric (swap A and B ->
the sign flips):

=============  ==============================  ======================================
name           clip value                      difference
=============  ==============================  ======================================
duration       ``duration_s``                  ``(a - b) / (a + b)`` (LMArena, lengths)
pixels         ``width * height``              ``(a - b) / (a + b)``
fps            ``fps``                         ``(a - b) / (a + b)``
motion         measurement ``motion_mean``     ``(a - b) / (a + b)``
sharpness      measurement ``sharpness``       ``(a - b) / (a + b)``
loudness       ``audio["loudness_lufs"]``      ``(a - b) / 20`` (dB; 0 unless both have sound)
audio          ``has_audio``                   ``a - b`` in {-1, 0, 1}
=============  ==============================  ======================================

Relative differences suit positive quantities whose effect is proportional (a 2 s clip
against a 4 s one is like a 5 s one against a 10 s one); loudness is already logarithmic
(LUFS), so a plain difference, scaled so a 20 dB gap is 1; loudness of a silent clip does
not exist, so the loudness difference is 0 when either clip lacks sound (the ``audio``
covariate carries that contrast). **A missing value** (clip not yet measured) makes that
covariate's difference 0 for the battle -- "no known difference"; the result reports how
many votes had every covariate known.

Intervals: **sandwich (robust) estimator**, not a bootstrap. ``Cov = H^-1 S H^-1`` with
``H`` the Hessian of the penalised objective at the optimum and ``S = sum_i w_i g_i g_i^T``
the per-vote score outer products (``g_i = (p_i - y_i) x_i``). It is the usual
large-sample covariance of a (quasi-)likelihood fit, valid when ties make the outcome
not Bernoulli; one pass over the data instead of 100 refits, which is what makes 1 M votes
take a second. Score intervals are the 95 % normal intervals of the anchored contrasts
(``theta_m - mean(theta)``) and each ``beta_k``; a simulation test checks their coverage.
FastChat's percentile bootstrap of 100 refits gives the same widths to within Monte-Carlo
error (benchmarks/style_control.py prints both). The sandwich treats votes as independent;
it does not widen for many votes on one clip pair (nor does FastChat's bootstrap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .bradley_terry import ANCHOR, ELO_SCALE, PRIOR_TIES
from .counts import PairCounts
from .leaderboard import main_component

COVARIATE_PENALTY = 0.5  # FastChat's reg=0.5
Z95 = 1.959963984540054
LOUDNESS_SCALE_DB = 20.0

_NEWTON_MAX_ITER = 50
_NEWTON_TOL = 1e-10


@dataclass(frozen=True)
class Covariate:
    """One covariate: the clip field it reads, how two clips' values become a difference,
    and the words for a higher value ("longer", ...)."""

    name: str
    kind: str  # "ratio": (a-b)/(a+b); "difference": (a-b)/scale; "boolean": a-b
    higher: str
    scale: float = 1.0


COVARIATES: tuple[Covariate, ...] = (
    Covariate("duration", "ratio", "longer"),
    Covariate("pixels", "ratio", "larger (more pixels)"),
    Covariate("fps", "ratio", "higher frame rate"),
    Covariate("motion", "ratio", "more motion"),
    Covariate("sharpness", "ratio", "sharper"),
    Covariate("loudness", "difference", "louder", LOUDNESS_SCALE_DB),
    Covariate("audio", "boolean", "with sound"),
)


def battle_differences(
    clip_a: Mapping[str, np.ndarray], clip_b: Mapping[str, np.ndarray], covariates: Sequence[Covariate] = COVARIATES
) -> np.ndarray:
    """``(N, K)`` normalised differences, one row per battle (before z-scoring).

    ``clip_a[name]`` / ``clip_b[name]``: float arrays of the raw clip values for covariate
    ``name`` (NaN = unknown; for ``audio`` 1.0/0.0; ``loudness`` NaN for a silent clip).
    An unknown value on either side gives 0. Raises ``ValueError`` for a negative value of a
    ratio covariate (the relative difference assumes positive quantities).
    """
    columns = []
    for cov in covariates:
        a = np.asarray(clip_a[cov.name], dtype=np.float64)
        b = np.asarray(clip_b[cov.name], dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"covariate {cov.name!r}: {a.shape} values for clip A, {b.shape} for clip B")
        known = np.isfinite(a) & np.isfinite(b)
        if cov.kind == "ratio":
            if (a[known] < 0).any() or (b[known] < 0).any():
                raise ValueError(f"covariate {cov.name!r} must not be negative")
            total = np.where(known, a + b, 1.0)
            diff = np.where(known & (total > 0), (a - b) / np.where(total > 0, total, 1.0), 0.0)
        elif cov.kind == "difference":
            diff = np.where(known, (a - b) / cov.scale, 0.0)
        elif cov.kind == "boolean":
            diff = np.where(known, (a > 0).astype(float) - (b > 0).astype(float), 0.0)
        else:
            raise ValueError(f"unknown covariate kind {cov.kind!r}")
        columns.append(diff)
    n = len(next(iter(clip_a.values()))) if clip_a else 0
    return np.column_stack(columns) if columns else np.zeros((n, 0))


def complete_rows(
    clip_a: Mapping[str, np.ndarray], clip_b: Mapping[str, np.ndarray], covariates: Sequence[Covariate] = COVARIATES
) -> np.ndarray:
    """Per battle, whether every covariate was known on both clips (loudness counts as known
    when either clip is silent: it has no loudness to measure)."""
    ok = None
    for cov in covariates:
        a = np.asarray(clip_a[cov.name], dtype=np.float64)
        b = np.asarray(clip_b[cov.name], dtype=np.float64)
        known = np.isfinite(a) & np.isfinite(b)
        if cov.name == "loudness" and "audio" in clip_a:
            silent = (np.asarray(clip_a["audio"]) == 0) | (np.asarray(clip_b["audio"]) == 0)
            known |= silent
        ok = known if ok is None else ok & known
    return ok if ok is not None else np.ones(0, dtype=bool)


@dataclass(frozen=True)
class CoefficientRow:
    """One covariate's effect. ``coef`` (log-odds per standard deviation of the difference)
    with its 95 % interval; ``sd`` is that standard deviation in the difference's own units;
    ``win_share``: how often, all else equal, the clip ahead by one SD wins (0.5 = no effect);
    ``effect``: the same in words. ``estimable`` is False when the difference never varied."""

    name: str
    coef: float
    lower: float
    upper: float
    sd: float
    win_share: float
    win_share_lower: float
    win_share_upper: float
    effect: str
    estimable: bool


@dataclass(frozen=True)
class ControlledRating:
    """One row of the controlled board (plain Python types, ``dataclasses.asdict`` is JSON-ready)."""

    model: str
    score: float
    lower: float
    upper: float
    rank_ub: int
    votes: int
    connected: bool = True  # False: outside the main comparison graph, interval = whole board


@dataclass(frozen=True)
class StyleControlResult:
    ratings: list[ControlledRating]  # best first
    coefficients: list[CoefficientRow]
    votes: int
    votes_all_known: int  # votes whose battle had every covariate known
    interval: str = "sandwich"


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@dataclass(frozen=True)
class _Design:
    a: np.ndarray
    b: np.ndarray
    z: np.ndarray  # (N, K) z-scored covariates
    y: np.ndarray
    w: np.ndarray
    m: int


def _linear(params, d: _Design):
    theta, beta = params[: d.m], params[d.m :]
    return theta[d.a] - theta[d.b] + d.z @ beta


def _objective(params, d: _Design, prior, lam):
    theta, beta = params[: d.m], params[d.m :]
    eta = _linear(params, d)
    data = float((d.w * (_softplus(eta) - d.y * eta)).sum())
    return data + prior * float((_softplus(theta) - 0.5 * theta).sum()) + 0.5 * lam * float(beta @ beta)


def _gram(d: _Design, v: np.ndarray) -> np.ndarray:
    """``sum_i v_i x_i x_i^T`` for ``x_i = [e_a - e_b, z_i]`` without building the (N, M+K) matrix."""
    m, k = d.m, d.z.shape[1]
    out = np.zeros((m + k, m + k))
    pair = np.bincount(d.a * m + d.b, v, m * m).reshape(m, m)
    out[:m, :m] = -(pair + pair.T)
    out[np.arange(m), np.arange(m)] += np.bincount(d.a, v, m) + np.bincount(d.b, v, m)
    vz = d.z * v[:, None]
    for j in range(k):
        out[:m, m + j] = np.bincount(d.a, vz[:, j], m) - np.bincount(d.b, vz[:, j], m)
    out[m:, :m] = out[:m, m:].T
    out[m:, m:] = d.z.T @ vz
    return out


def _gradient(params, d: _Design, prior, lam):
    theta, beta = params[: d.m], params[d.m :]
    r = d.w * (_sigmoid(_linear(params, d)) - d.y)
    g_theta = np.bincount(d.a, r, d.m) - np.bincount(d.b, r, d.m) + prior * (_sigmoid(theta) - 0.5)
    return np.concatenate([g_theta, d.z.T @ r + lam * beta])


def _hessian(params, d: _Design, prior, lam):
    p = _sigmoid(_linear(params, d))
    h = _gram(d, d.w * p * (1.0 - p))
    s = _sigmoid(params[: d.m])
    h[np.arange(d.m), np.arange(d.m)] += prior * s * (1.0 - s)
    k = d.z.shape[1]
    h[d.m :, d.m :] += lam * np.eye(k)
    return h


def _newton(d: _Design, prior, lam) -> tuple[np.ndarray, np.ndarray]:
    """Penalised maximum likelihood by Newton-Raphson with Armijo backtracking. Returns the
    parameters and the Hessian at them."""
    params = np.zeros(d.m + d.z.shape[1])
    obj = _objective(params, d, prior, lam)
    for _ in range(_NEWTON_MAX_ITER):
        grad = _gradient(params, d, prior, lam)
        hess = _hessian(params, d, prior, lam)
        step = -np.linalg.solve(hess, grad)
        slope = float(grad @ step)
        if -0.5 * slope <= _NEWTON_TOL:
            return params, hess
        t = 1.0
        for _ in range(40):
            new = _objective(params + t * step, d, prior, lam)
            if new <= obj + 1e-4 * t * slope + 1e-12 * abs(obj):
                break
            t *= 0.5
        params = params + t * step
        obj = new
    return params, _hessian(params, d, prior, lam)


def _effect_words(cov: Covariate, coef: float, lo: float, hi: float, sd: float) -> str:
    """Plain words for a coefficient. A boolean covariate is stated per unit (sound against
    no sound); the others per one standard deviation of their difference."""
    if cov.kind == "boolean":
        share, s_lo, s_hi = (_sigmoid(v / sd) for v in (coef, lo, hi))
        return (
            f"clips {cov.higher} win {100 * share:.1f}% (95% CI {100 * s_lo:.1f}-{100 * s_hi:.1f}%) "
            "of battles against an otherwise equal clip without, all else equal (50% = no effect)"
        )
    unit = f"a relative difference (a-b)/(a+b) of {sd:.2f}" if cov.kind == "ratio" else f"{sd * cov.scale:.1f} dB"
    share, s_lo, s_hi = (_sigmoid(v) for v in (coef, lo, hi))
    return (
        f"{cov.higher} clips, by one typical difference ({unit}), win {100 * share:.1f}% "
        f"(95% CI {100 * s_lo:.1f}-{100 * s_hi:.1f}%) of battles, all else equal (50% = no effect)"
    )


def fit_style_control(
    models: Sequence[str],
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    differences: np.ndarray,
    count: np.ndarray | None = None,
    *,
    covariates: Sequence[Covariate] = COVARIATES,
    listed: np.ndarray | None = None,
    complete: np.ndarray | None = None,
    prior: float = PRIOR_TIES,
    penalty: float = COVARIATE_PENALTY,
) -> StyleControlResult:
    """Fit the controlled board.

    ``a``/``b``: model indices into ``models``; ``outcome``: model A's score (1, 0.5, 0);
    ``differences``: ``(N, K)`` from :func:`battle_differences`; ``count``: votes per row
    (default 1 each). ``listed``: mask of models to show and to anchor the mean 1000 on
    (default: every model with a vote). ``complete``: per row, whether every covariate was
    known (from :func:`complete_rows`), for the result's ``votes_all_known``. Raises ``ValueError`` on inconsistent shapes, a
    model against itself, an outcome other than 0, 0.5, 1, or a negative count.
    """
    m = len(models)
    a = np.asarray(a, dtype=np.intp)
    b = np.asarray(b, dtype=np.intp)
    y = np.asarray(outcome, dtype=np.float64)
    x = np.asarray(differences, dtype=np.float64).reshape(len(a), len(covariates))
    w = np.ones(len(a)) if count is None else np.asarray(count, dtype=np.float64)
    if not (len(a) == len(b) == len(y) == len(w)):
        raise ValueError("a, b, outcome and count must have one entry per row")
    if len(a) and (a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= m):
        raise ValueError("model index out of range")
    if (a == b).any():
        raise ValueError("a model compared with itself")
    if not np.isin(y, (0.0, 0.5, 1.0)).all():
        raise ValueError("outcome must be 1 (A won), 0.5 (tie) or 0 (B won)")
    if (w < 0).any() or not np.isfinite(w).all() or not np.isfinite(x).all():
        raise ValueError("counts must be non-negative and covariates finite")
    keep = w > 0
    a, b, y, w, x = a[keep], b[keep], y[keep], w[keep], x[keep]
    total = float(w.sum())
    votes_per_model = np.bincount(a, w, m) + np.bincount(b, w, m)
    if listed is None:
        listed = votes_per_model > 0
    listed = np.asarray(listed, dtype=bool)
    if total == 0 or not listed.any():
        return StyleControlResult(ratings=[], coefficients=[], votes=0, votes_all_known=0)

    # z-score as FastChat does (vote-weighted mean and population SD); a constant column
    # stays 0 and its coefficient is reported as not estimable.
    mean = (w @ x) / total
    sd = np.sqrt(np.maximum((w @ (x - mean) ** 2) / total, 0.0))
    estimable = sd > 1e-12
    z = np.where(estimable, (x - mean) / np.where(estimable, sd, 1.0), 0.0)
    design = _Design(a=a, b=b, z=z, y=y, w=w, m=m)
    params, hess = _newton(design, prior, lam=penalty)

    p = _sigmoid(_linear(params, design))
    meat = _gram(design, w * (p - y) ** 2)
    h_inv = np.linalg.inv(hess)
    cov = h_inv @ meat @ h_inv

    # As the raw board: a model no battle links to the main group cannot be placed from data
    # (only the prior holds its level, and the sandwich would call that precise), so it is
    # left out of the anchor and its interval spans the whole board.
    main = main_component(PairCounts(tuple(models), a, b, y, w), votes_per_model)
    anchored = listed & main if (listed & main).any() else listed
    anchor = np.zeros(m)
    anchor[anchored] = 1.0 / anchored.sum()
    contrast = np.eye(m) - anchor[None, :]  # theta_m - mean over listed
    theta = params[:m]
    score = ELO_SCALE * (contrast @ theta) + ANCHOR
    score_se = ELO_SCALE * np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", contrast, cov[:m, :m], contrast), 0.0))
    lower, upper = score - Z95 * score_se, score + Z95 * score_se
    if (listed & ~main).any():
        lower = np.where(main, lower, lower[listed].min())
        upper = np.where(main, upper, upper[listed].max())

    idx = np.flatnonzero(listed)
    rank_ub = 1 + (lower[idx][None, :] > upper[idx][:, None]).sum(axis=1)
    ratings = [
        ControlledRating(
            model=str(models[int(i)]),
            score=float(score[i]),
            lower=float(lower[i]),
            upper=float(upper[i]),
            rank_ub=int(rank_ub[n]),
            votes=int(round(votes_per_model[i])),
            connected=bool(main[i]),
        )
        for n, i in enumerate(idx)
    ]
    ratings.sort(key=lambda r: (-r.score, r.model))

    beta = params[m:]
    beta_se = np.sqrt(np.maximum(np.diag(cov)[m:], 0.0))
    coefficients = []
    for k, c in enumerate(covariates):
        lo, hi = beta[k] - Z95 * beta_se[k], beta[k] + Z95 * beta_se[k]
        share, share_lo, share_hi = (float(_sigmoid(v)) for v in (beta[k], lo, hi))
        coefficients.append(
            CoefficientRow(
                name=c.name,
                coef=float(beta[k]),
                lower=float(lo),
                upper=float(hi),
                sd=float(sd[k]),
                win_share=share,
                win_share_lower=share_lo,
                win_share_upper=share_hi,
                effect=_effect_words(c, float(beta[k]), float(lo), float(hi), float(sd[k]))
                if estimable[k]
                else "not estimable: this difference never varied",
                estimable=bool(estimable[k]),
            )
        )
    votes_all_known = total if complete is None else float(w[np.asarray(complete, dtype=bool)[keep]].sum())
    return StyleControlResult(
        ratings=ratings, coefficients=coefficients, votes=int(round(total)), votes_all_known=int(round(votes_all_known))
    )


def effect_in_points(coef: float) -> float:
    """A coefficient (log-odds) in rating points: the score gap that would have the same effect."""
    return ELO_SCALE * coef


__all__ = [
    "COVARIATES",
    "COVARIATE_PENALTY",
    "Covariate",
    "CoefficientRow",
    "ControlledRating",
    "StyleControlResult",
    "battle_differences",
    "complete_rows",
    "fit_style_control",
    "effect_in_points",
]
