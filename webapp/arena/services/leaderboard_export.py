"""The leaderboard export: a computed board as JSON or CSV, for the API and
`manage.py export_leaderboard`. The JSON carries the controlled (style-control) board beside
the raw one, with each covariate's coefficient (docs/arena.md); the CSV is the raw board."""

from __future__ import annotations

import io
import json

from ..models import RatingSnapshot
from .battle_export import TextSink, write_csv

LEADERBOARD_FIELDS = (
    "rank_ub",
    "model",
    "name",
    "vendor",
    "score",
    "lower",
    "upper",
    "votes",
    "wins",
    "losses",
    "ties",
    "win_rate",
    "preliminary",
    "elo_live",
)


# The controlled board's rows and covariates (services/analysis.py controlled_board), in order.
CONTROLLED_FIELDS = ("rank_ub", "model", "score", "lower", "upper", "votes", "connected")
COVARIATE_FIELDS = (
    "name",
    "coef",
    "lower",
    "upper",
    "sd",
    "win_share",
    "win_share_lower",
    "win_share_upper",
    "points",
    "effect",
    "estimable",
)


def records(snapshot: RatingSnapshot) -> list[dict]:
    return [{key: row.get(key) for key in LEADERBOARD_FIELDS} for row in snapshot.rows]


def document(snapshot: RatingSnapshot) -> dict:
    return {
        "pool": snapshot.pool,
        "category": snapshot.category,
        "computed_at": snapshot.created_at.isoformat(),
        "votes_counted": snapshot.votes_counted,
        "bootstrap_rounds": snapshot.bootstrap_rounds,
        "models": records(snapshot),
        "controlled": controlled(snapshot),
    }


def controlled(snapshot: RatingSnapshot) -> dict | None:
    """The controlled board of the snapshot; None for a snapshot computed without one."""
    board = (snapshot.analysis or {}).get("controlled")
    if not board:
        return None
    return {
        "votes": board["votes"],
        "votes_all_known": board["votes_all_known"],
        "interval": board["interval"],
        "models": [{key: row.get(key) for key in CONTROLLED_FIELDS} for row in board["rows"]],
        "covariates": [{key: c.get(key) for key in COVARIATE_FIELDS} for c in board["coefficients"]],
    }


def write_json(snapshot: RatingSnapshot, fh: TextSink) -> None:
    json.dump(document(snapshot), fh, ensure_ascii=False, indent=2)
    fh.write("\n")


def write_csv_file(snapshot: RatingSnapshot, fh: TextSink) -> None:
    write_csv(records(snapshot), fh, LEADERBOARD_FIELDS)


def as_csv(snapshot: RatingSnapshot) -> str:
    buffer = io.StringIO()
    write_csv_file(snapshot, buffer)
    return buffer.getvalue()
