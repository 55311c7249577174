"""The agreement table (services/analysis.py) as JSON or CSV, for /leaderboard/agreement."""

from __future__ import annotations

import csv
import io

from webapp.core.csv_cells import neutralise_row

from ..models import RatingSnapshot

AGREEMENT_FIELDS = (
    "metric",
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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AGREEMENT_FIELDS)
    for row in snapshot.analysis.get("agreement", []):
        writer.writerow(neutralise_row("" if row.get(k) is None else row.get(k) for k in AGREEMENT_FIELDS))
    return out.getvalue()
