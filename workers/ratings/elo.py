"""FastChat's online Elo: the leaderboard's cheap "live" number."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from .counts import OUTCOME, WINNERS

Model = TypeVar("Model", bound=Hashable)


def online_elo(
    sequence: Iterable[tuple[Model, Model, str]],
    k: float = 4.0,
    *,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
    start: Mapping[Model, float] | None = None,
) -> dict[Model, float]:
    """FastChat's online Elo (``compute_elo``) over votes in the order given.

    A cheap "live" number only: it depends on vote order and has no interval. A model starts
    at ``init`` when first seen, or where ``start`` (an earlier result) left it; models are any
    hashable keys (slugs, ids). Raises ``ValueError`` on an unknown winner label.
    """
    ratings: dict[Model, float] = dict(start or {})
    for model_a, model_b, winner in sequence:
        if winner not in OUTCOME:
            raise ValueError(f"unknown winner label {winner!r}; expected one of {WINNERS}")
        if model_a == model_b:
            raise ValueError(f"model {model_a!r} compared with itself")
        ra = ratings.setdefault(model_a, init)
        rb = ratings.setdefault(model_b, init)
        expected_a = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        update = k * (OUTCOME[winner] - expected_a)
        ratings[model_a] = ra + update
        ratings[model_b] = ratings[model_b] - update
    return ratings
