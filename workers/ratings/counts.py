"""Vote counts as the ratings take them: unique (model_a, model_b, outcome) rows with counts,
built from what the database aggregated (GROUP BY model_a, model_b, winner)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# FastChat's clean-battle winner labels and the score each gives model A.
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
OUTCOME = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


@dataclass(frozen=True, eq=False)
class PairCounts:
    """Unique ``(model_a, model_b, outcome)`` rows with their counts; build with :func:`from_rows`.

    ``models`` are sorted keys; ``a``/``b`` index into them; ``outcome`` is A's score (1.0,
    0.5 or 0.0); ``count`` is a float array of positive counts. Rows are sorted by
    ``(a, b, outcome)`` -- the order ``np.unique(axis=0)`` gives in FastChat -- and the two
    tie labels share one row. ``(a, b)`` and ``(b, a)`` rows are kept apart, as in FastChat
    and as the votes were cast; the fit and the bootstrap pool them.
    """

    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray
    count: np.ndarray

    @property
    def total(self) -> int:
        """Number of votes."""
        return int(round(float(self.count.sum())))

    def __len__(self) -> int:
        return int(self.count.shape[0])


def from_rows(rows: Iterable[tuple[str, str, str, int]]) -> PairCounts:
    """Build :class:`PairCounts` from ``(model_a, model_b, winner, n)`` rows.

    Duplicate keys are summed (``tie`` and ``tie (bothbad)`` merge into one outcome 0.5 row);
    rows with ``n == 0`` are dropped, and a model that only appears in such rows is not in
    ``models``. Raises ``ValueError`` for an unknown winner label, a model against itself, or
    a negative / non-integer / non-numeric count.
    """
    merged: dict[tuple[str, str, float], int] = {}
    for row in rows:
        try:
            model_a, model_b, winner, n = row
        except (TypeError, ValueError):
            raise ValueError(f"expected (model_a, model_b, winner, n), got {row!r}") from None
        if winner not in OUTCOME:
            raise ValueError(f"unknown winner label {winner!r}; expected one of {WINNERS}")
        if model_a == model_b:
            raise ValueError(f"model {model_a!r} compared with itself")
        if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n != int(n):
            raise ValueError(f"count must be a whole number, got {n!r}")
        n = int(n)
        if n < 0:
            raise ValueError(f"negative count {n} for {(model_a, model_b, winner)!r}")
        if n == 0:
            continue
        key = (str(model_a), str(model_b), OUTCOME[winner])
        merged[key] = merged.get(key, 0) + n

    models = tuple(sorted({m for k in merged for m in k[:2]}))
    index = {m: i for i, m in enumerate(models)}
    keys = sorted((index[ma], index[mb], out, n) for (ma, mb, out), n in merged.items())
    arr = np.array([k[:3] for k in keys], dtype=np.float64).reshape(-1, 3)
    return PairCounts(
        models=models,
        a=arr[:, 0].astype(np.intp),
        b=arr[:, 1].astype(np.intp),
        outcome=arr[:, 2].copy(),
        count=np.array([k[3] for k in keys], dtype=np.float64),
    )
