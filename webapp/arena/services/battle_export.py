"""The battle export: one FastChat clean-battle record per vote (``question_id, model_a,
model_b, winner, judge, turn, anony, language, tstamp``, no conversations: FastChat's
``--mode simple``) plus our own columns (``vote_id, battle_id, prompt, pool, category,
excluded_reason, source``), as JSON or CSV. Records are streamed from a server-side cursor, so
a million votes never sit in memory.

Privacy: a judge is never exported as given. Arena votes export ``arena_user_`` + the first
16 hex digits of the voter key (an HMAC of the session under the site secret); imported votes
store an HMAC of the file's judge (FastChat judges may be raw IPs) and export it the same way.
An imported record's digest id (``sha256:...``) is never exported: with a known judge format
it could be brute-forced back to an IP.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Protocol

from django.db.models import QuerySet

from webapp.catalog.models import VideoModel
from webapp.core.clients import keyed_digest
from webapp.core.csv_cells import neutralise
from webapp.studio.models import Prompt
from workers.media.measure import METRIC_KEYS

from ..models import ExcludedReason, Vote
from .battle_import import HASH_PREFIX
from .clip_columns import CLIP_COLUMNS, CLIP_FACTS, CLIP_SOUND

BATTLE_FIELDS = (
    "question_id",
    "model_a",
    "model_b",
    "winner",
    "judge",
    "turn",
    "anony",
    "language",
    "tstamp",
    "vote_id",
    "battle_id",
    "prompt",
    "pool",
    "category",
    "excluded_reason",
    "source",
)
SIDE_FIELDS = tuple(f"clip_{side}_{name}" for side in ("a", "b") for name in CLIP_COLUMNS)
EXPORT_FIELDS = (*BATTLE_FIELDS, *SIDE_FIELDS)
# Read with the vote in the same query (two joins), never one query per clip.
_CLIP_SOURCE_FIELDS = ("id", *CLIP_FACTS, "audio", "measurements", "measurements_version")
CLIP_QUERY_FIELDS = tuple(f"battle__{side}__{name}" for side in ("left", "right") for name in _CLIP_SOURCE_FIELDS)
ALL_POOLS = "all"
POOL_CHOICES = (*Prompt.Pool.values, ALL_POOLS)
CHUNK_SIZE = 5000


class TextSink(Protocol):
    """Where an export is written: a text file, or a command's stdout."""

    def write(self, text: str, /) -> object: ...


FORMATS = ("json", "csv")


def battle_ref(public_id: str | None) -> str | None:
    """A battle as exports name it: a keyed digest of its id, never the id itself, which is in
    the URLs of the battle's renditions (nothing published beside model names may lead there)."""
    return "battle_" + keyed_digest("battle", public_id, 20) if public_id else None


def judge_of(voter_key: str) -> str:
    return "arena_user_" + (voter_key or "")[:16]


def export_queryset(pool: str = ALL_POOLS, *, include_excluded: bool = False) -> QuerySet:
    """Votes to export: counted ones (no ``excluded_reason``) of one pool or all, oldest first."""
    if pool not in POOL_CHOICES:
        raise ValueError(f"pool must be one of {', '.join(POOL_CHOICES)}")
    votes = Vote.objects.all()
    if pool != ALL_POOLS:
        votes = votes.filter(pool=pool)
    if not include_excluded:
        votes = votes.filter(excluded_reason=ExcludedReason.COUNTED)
    return votes.order_by("id")


def page(pool: str, *, after: int, limit: int) -> tuple[list[dict], int | None]:
    """One page of the export: the counted votes with an id above `after`, at most `limit` of
    them, oldest first, and the cursor of the next page (None on the last). Reads at most
    limit + 1 ids along the primary key, never the whole table."""
    ids = list(export_queryset(pool).filter(id__gt=after).values_list("id", flat=True)[: limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    records = list(battle_records(Vote.objects.filter(id__in=ids))) if ids else []
    return records, (ids[-1] if more else None)


def battle_records(votes: QuerySet) -> Iterator[dict]:
    """One clean-battle dict per vote, streamed (``.iterator()``, server-side cursor)."""
    slugs = dict(VideoModel.objects.values_list("pk", "slug"))
    rows = (
        votes.order_by("id")
        .values_list(
            "id",
            "model_a_id",
            "model_b_id",
            "winner",
            "voter_key",
            "created_at",
            "battle__public_id",
            "battle__prompt__text",
            "pool",
            "category",
            "excluded_reason",
            "source",
            "external_id",
            "anony",
            "imported_clips",
            *CLIP_QUERY_FIELDS,
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    width = len(CLIP_QUERY_FIELDS) // 2
    for row in rows:
        base, left, right = row[: -2 * width], row[-2 * width : -width], row[-width:]
        (
            vote_id,
            model_a,
            model_b,
            winner,
            voter_key,
            created_at,
            battle_id,
            prompt,
            pool,
            category,
            excluded_reason,
            source,
            external_id,
            anony,
            imported,
        ) = base
        question_id = None
        if source == Vote.Source.IMPORT:
            if external_id and not external_id.startswith(HASH_PREFIX):
                question_id = external_id
        else:
            question_id = battle_ref(battle_id) or f"vote-{vote_id}"
        if model_a not in slugs or model_b not in slugs:  # a model created after the lookup
            slugs = dict(VideoModel.objects.values_list("pk", "slug"))
        yield {
            "question_id": question_id,
            "model_a": slugs[model_a],
            "model_b": slugs[model_b],
            "winner": winner,
            "judge": judge_of(voter_key),
            "turn": 1,
            "anony": anony,
            "language": "",
            "tstamp": created_at.timestamp(),
            "vote_id": vote_id,
            "battle_id": battle_ref(battle_id),
            "prompt": prompt,
            "pool": pool,
            "category": category,
            "excluded_reason": excluded_reason,
            "source": source,
            **(_imported_side("a", imported) if imported else _side("a", left)),
            **(_imported_side("b", imported) if imported else _side("b", right)),
        }


def _side(side: str, values: tuple) -> dict:
    row = dict(zip(_CLIP_SOURCE_FIELDS, values))
    columns = clip_columns(row) if row.get("id") is not None else {}
    return {f"clip_{side}_{name}": columns.get(name) for name in CLIP_COLUMNS}


def _imported_side(side: str, imported: dict) -> dict:
    """An imported vote's clip columns as its record gave them (Vote.imported_clips)."""
    given = imported.get(side) or {}
    return {f"clip_{side}_{name}": given.get(name) for name in CLIP_COLUMNS}


def clip_columns(row: dict) -> dict:
    """A clip's export columns from its stored facts, sound and measurements."""
    audio = row.get("audio") or {}
    measured = row.get("measurements") or {}
    return {
        **{name: row.get(name) for name in CLIP_FACTS},
        **{name: audio.get(name) for name in CLIP_SOUND},
        "measurements_version": row.get("measurements_version"),
        **{name: measured.get(name) for name in METRIC_KEYS},
    }


def iter_json(records: Iterable[dict]) -> Iterator[str]:
    """A JSON array, one record per line, produced piece by piece."""
    first = True
    for record in records:
        yield ("[\n" if first else ",\n") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "[]\n" if first else "\n]\n"


class _Line:
    """A file-like object whose write() returns what was written, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def iter_csv(records: Iterable[dict], fields: tuple[str, ...] = EXPORT_FIELDS) -> Iterator[str]:
    writer = csv.DictWriter(_Line(), fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    yield writer.writeheader()
    for record in records:
        yield writer.writerow({key: _csv_value(record.get(key)) for key in fields})


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value)  # a prompt or a slug must not run as a spreadsheet formula


def write_json(records: Iterable[dict], fh: TextSink) -> int:
    """Write a JSON array of records; returns how many were written."""
    count = 0

    def counted():
        nonlocal count
        for record in records:
            count += 1
            yield record

    for chunk in iter_json(counted()):
        fh.write(chunk)
    return count


def write_csv(records: Iterable[dict], fh: TextSink, fields: tuple[str, ...] = EXPORT_FIELDS) -> int:
    """Write a header row and one row per record; returns how many records were written."""
    count = -1
    for chunk in iter_csv(records, fields):
        fh.write(chunk)
        count += 1
    return count
