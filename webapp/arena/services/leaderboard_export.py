"""The leaderboard export: a computed board as JSON or CSV, for the API and
`manage.py export_leaderboard`."""

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
