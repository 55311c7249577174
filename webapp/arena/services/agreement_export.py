"""The agreement table (services/analysis.py) as JSON or CSV, for /leaderboard/agreement."""

from __future__ import annotations

import io

from ..models import RatingSnapshot
from .battle_export import write_csv

AGREEMENT_FIELDS = (
    "metric",
    "prefers",
    "battles",
    "agree",
    "accuracy",
    "lower",
    "upper",
    "models",
    "kendall_tau",
    "kendall_p",
    "spearman_rho",
    "spearman_p",
)


def document(snapshot: RatingSnapshot) -> dict:
    return {
        "pool": snapshot.pool,
        "category": snapshot.category,
        "computed_at": snapshot.created_at.isoformat(),
        "votes_counted": snapshot.votes_counted,
        "metrics": [{k: row.get(k) for k in AGREEMENT_FIELDS} for row in snapshot.analysis.get("agreement", [])],
    }


def as_csv(snapshot: RatingSnapshot) -> str:
    buffer = io.StringIO()
    write_csv(snapshot.analysis.get("agreement", []), buffer, AGREEMENT_FIELDS)
    return buffer.getvalue()
