"""The battle import: a JSON array or JSON Lines of FastChat clean-battle records (only
``model_a``, ``model_b`` and ``winner`` are required).

Every record is validated first; then, in one transaction, missing models are created
(disabled, known only from votes) and the votes are inserted. ``Vote.anony`` keeps the
record's ``anony`` (named records, ``anony: false``, are imported only with ``include_named``;
they are exported again with ``anony: false`` and never count). The file's judge is stored as
an HMAC under the site secret (FastChat judges may be raw IPs).

Deduplication: ``Vote.external_id`` is the record's ``question_id`` (or ``id``); a record
without one gets ``sha256:<digest of model_a, model_b, winner, judge, tstamp>``. A unique
constraint (``one_import_per_external_id_and_pool``) stores each external_id at most once per
pool. Records already in the pool are looked up first and reported as skipped duplicates; the
insert itself skips any that a concurrent writer committed in the meantime (PostgreSQL: COPY
into a temporary table, then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, arena/sql.py),
so importing a file twice, even at the same time, adds nothing. Imports into PostgreSQL still
run one at a time (a transaction advisory lock), only so that two files sharing records cannot
deadlock.

Over ~400 lines on purpose: validation, deduplication and the COPY/ORM insert paths are one
transaction's steps, and reading them apart would hide the order that keeps an import atomic.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from webapp.catalog.models import VideoModel
from webapp.core.clients import keyed_digest
from webapp.core.errors import ScreentestError
from webapp.studio.models import Prompt

from .. import sql
from ..models import ExcludedReason, Vote, Winner
from .clip_columns import CLIP_COLUMNS

CHUNK_SIZE = 5000
HASH_PREFIX = "sha256:"
MAX_EXTERNAL_ID = 100  # of Vote.external_id's 128 characters

IMPORT_VENDOR = "imported"
WINNER_LABELS = frozenset(Winner.values)
SKIP_NAMED = "named battle (anony is not true)"


class ImportFormatError(ScreentestError):
    """The file is not JSON or JSON Lines at all (or not a list of records)."""

    def __init__(self, message: str):
        super().__init__("invalid_import_file", message)


@dataclass(frozen=True)
class ImportIssue:
    index: int  # 0-based position of the record in the file
    message: str
    line: int | None = None  # 1-based line, for JSON Lines

    def __str__(self):
        where = f"record {self.index}" + (f" (line {self.line})" if self.line else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    records: int = 0
    created: int = 0
    skipped_duplicates: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count, e.g. named battles
    errors: list[ImportIssue] = field(default_factory=list)
    models_created: list[str] = field(default_factory=list)
    aborted: bool = False  # strict mode and errors: nothing was written
    format: str = ""  # "json" or "jsonl"
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{self.records} records ({self.format})",
            f"{self.created} votes created",
            f"{self.skipped_duplicates} duplicates skipped",
        ]
        parts += [f"{n} skipped: {reason}" for reason, n in sorted(self.skipped.items())]
        parts.append(f"{len(self.errors)} errors")
        if self.models_created:
            parts.append(f"{len(self.models_created)} models created ({', '.join(self.models_created)})")
        text = ", ".join(parts)
        if self.aborted:
            text += "; strict mode: nothing imported"
        return text


@dataclass(frozen=True)
class _Row:
    slug_a: str
    slug_b: str
    name_a: str
    name_b: str
    winner: str
    external_id: str
    anony: bool
    voter_key: str
    created_at: datetime | None
    category: str
    excluded_reason: str
    clips: dict | None = None  # Vote.imported_clips


def _clip_sides(record: dict) -> dict | None | str:
    """The record's clip_a_* / clip_b_* columns (the export's, docs/arena.md) as
    ``{"a": {...}, "b": {...}}``, None when it has none, or the error message."""
    sides: dict[str, dict] = {}
    for side in ("a", "b"):
        values: dict[str, float | bool] = {}
        for name in CLIP_COLUMNS:
            key = f"clip_{side}_{name}"
            value = record.get(key)
            if value is None or value == "":
                continue
            if name == "has_audio":
                if not isinstance(value, bool):
                    return f"{key} must be true or false, got {value!r}"
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return f"{key} must be a finite number, got {value!r}"
            values[name] = value
        if values:
            sides[side] = values
    return sides or None


def _read(source) -> tuple[list[tuple[int | None, object]], list[ImportIssue], str]:
    """Parse the file: ``[(line or None, record), ...]``, parse errors of single JSONL lines, format."""
    if hasattr(source, "read"):
        data = source.read()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImportFormatError(f"cannot read {source}: {exc}") from exc
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"not UTF-8 text: {exc}") from None
    text = data.lstrip("\ufeff")
    if not text.strip():
        raise ImportFormatError("the file is empty")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    else:
        if isinstance(whole, list):
            parsed: list[tuple[int | None, object]] = [(None, record) for record in whole]
            return parsed, [], "json"
        if isinstance(whole, dict):  # one record (a one-line JSON Lines file)
            return [(1, whole)], [], "jsonl"
        raise ImportFormatError("expected a JSON array of battle records or JSON Lines")
    records: list[tuple[int | None, object]] = []
    issues: list[ImportIssue] = []
    objects = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            issues.append(ImportIssue(len(records), f"not valid JSON: {exc}", number))
            records.append((number, None))
            continue
        objects += isinstance(record, dict)
        records.append((number, record))
    if not objects:
        raise ImportFormatError("neither a JSON array nor JSON Lines of battle records")
    return records, issues, "jsonl"


def _judge_key(judge, cache: dict) -> str:
    """An HMAC of the file's judge under the site secret (FastChat judges may be raw IPs)."""
    if judge in (None, ""):
        return "import"
    text = judge if isinstance(judge, str) else json.dumps(judge)
    key = cache.get(text)
    if key is None:
        key = cache[text] = keyed_digest("judge", text)
    return key


def _record_hash(model_a, model_b, winner, judge, tstamp) -> str:
    payload = json.dumps([model_a, model_b, winner, judge, tstamp], ensure_ascii=False)
    return HASH_PREFIX + hashlib.sha256(payload.encode()).hexdigest()


def _validate(record, *, default_category: str, slug_cache: dict, judge_cache: dict, latest: datetime) -> _Row | str:
    """A row to import, or the error message."""
    if not isinstance(record, dict):
        return "a battle record must be a JSON object"
    missing = [key for key in ("model_a", "model_b", "winner") if record.get(key) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}"
    names = []
    for key in ("model_a", "model_b"):
        name = record[key]
        if not isinstance(name, str):
            return f"{key} must be a string"
        name = " ".join(name.split())
        if len(name) > 120:
            return f"{key} is longer than 120 characters"
        slug = slug_cache.get(name)
        if slug is None:
            slug = slug_cache[name] = slugify(name)
        if not slug:
            return f"{key} {name!r} has no letters or digits to make a model slug from"
        if len(slug) > 64:
            return f"{key} {name!r} makes a slug longer than 64 characters"
        names.append((name, slug))
    (name_a, slug_a), (name_b, slug_b) = names
    if slug_a == slug_b:
        return f"model_a and model_b are the same model ({slug_a})"
    winner = record["winner"]
    if not isinstance(winner, str) or winner not in WINNER_LABELS:
        return f"unknown winner label {winner!r}; expected one of {', '.join(map(repr, Winner.values))}"
    tstamp = record.get("tstamp")
    created_at = None
    if tstamp is not None:
        if isinstance(tstamp, bool) or not isinstance(tstamp, (int, float)) or not math.isfinite(tstamp):
            return f"tstamp must be a unix time in seconds, got {tstamp!r}"
        try:
            created_at = datetime.fromtimestamp(tstamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return f"tstamp {tstamp!r} is out of range"
        if tstamp <= 0 or created_at > latest:
            return f"tstamp {tstamp!r} is not a plausible vote time"
    anony = record.get("anony", True)
    if anony is not None and not isinstance(anony, bool):
        return f"anony must be true or false, got {anony!r}"
    category = record.get("category") or default_category
    if not isinstance(category, str) or len(category) > 48:
        return "category must be a string of at most 48 characters"
    excluded = record.get("excluded_reason") or ""
    if excluded not in ExcludedReason.values:
        return f"excluded_reason must be one of {', '.join(repr(v) for v in ExcludedReason.values if v)} or empty"
    source_id = record.get("question_id")
    if source_id in (None, ""):
        source_id = record.get("id")
    if source_id in (None, ""):
        external_id = _record_hash(record["model_a"], record["model_b"], winner, record.get("judge"), tstamp)
    else:
        if isinstance(source_id, bool) or not isinstance(source_id, (str, int)):
            return "question_id / id must be a string or an integer"
        external_id = str(source_id)
        if len(external_id) > MAX_EXTERNAL_ID:
            return f"question_id / id is longer than {MAX_EXTERNAL_ID} characters"
    clips = _clip_sides(record)
    if isinstance(clips, str):
        return clips
    return _Row(
        slug_a,
        slug_b,
        name_a,
        name_b,
        winner,
        external_id,
        anony is not False,
        _judge_key(record.get("judge"), judge_cache),
        created_at,
        category,
        excluded,
        clips,
    )


def _existing_external_ids(pool: str, candidates: list[str]) -> set[str]:
    """The candidates already stored in the pool (any source: the unique constraint's scope)."""
    if connection.vendor == "postgresql":
        return sql.external_ids_in_pool(pool, candidates)
    found: set[str] = set()
    for start in range(0, len(candidates), CHUNK_SIZE):
        chunk = candidates[start : start + CHUNK_SIZE]
        found.update(
            Vote.objects.filter(pool=pool, external_id__in=chunk)
            .exclude(external_id="")
            .values_list("external_id", flat=True)
        )
    return found


def _insert_votes(rows: list[_Row], ids: dict[str, int], pool: str) -> int:
    """Insert the rows, skipping any external_id already in the pool; returns how many were inserted.

    PostgreSQL: COPY into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO
    NOTHING`` in file order (100k rows in about three seconds). Elsewhere bulk_create in batches
    with ignore_conflicts, counted by the pool's vote count before and after (SQLite has one
    writer at a time)."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        before = Vote.objects.filter(pool=pool).count()
        for start in range(0, len(rows), CHUNK_SIZE):
            Vote.objects.bulk_create(
                [
                    Vote(
                        model_a_id=ids[row.slug_a],
                        model_b_id=ids[row.slug_b],
                        winner=row.winner,
                        pool=pool,
                        category=row.category,
                        voter_key=row.voter_key,
                        excluded_reason=row.excluded_reason,
                        source=Vote.Source.IMPORT,
                        external_id=row.external_id,
                        anony=row.anony,
                        created_at=row.created_at or now,
                        imported_clips=row.clips,
                    )
                    for row in rows[start : start + CHUNK_SIZE]
                ],
                ignore_conflicts=True,
            )
        return Vote.objects.filter(pool=pool).count() - before
    return sql.copy_new_votes(
        IMPORT_COLUMNS,
        (
            (
                ids[row.slug_a],
                ids[row.slug_b],
                row.winner,
                pool,
                row.category,
                row.voter_key,
                row.excluded_reason,
                Vote.Source.IMPORT,
                row.external_id,
                row.anony,
                row.created_at or now,
                None if row.clips is None else json.dumps(row.clips),
            )
            for row in rows
        ),
    )


IMPORT_COLUMNS = (
    "model_a_id",
    "model_b_id",
    "winner",
    "pool",
    "category",
    "voter_key",
    "excluded_reason",
    "source",
    "external_id",
    "anony",
    "created_at",
    "imported_clips",
)


def _models_for(rows: list[_Row], report: ImportReport) -> dict[str, int]:
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row.slug_a, row.name_a)
        names.setdefault(row.slug_b, row.name_b)
    ids = dict(VideoModel.objects.filter(slug__in=list(names)).values_list("slug", "pk"))
    missing = sorted(set(names) - set(ids))
    if missing:
        VideoModel.objects.bulk_create(
            [
                VideoModel(
                    slug=slug,
                    display_name=names[slug],
                    vendor=IMPORT_VENDOR,
                    backend_key="",
                    enabled=False,
                    in_arena=True,
                    description="Known only from imported votes.",
                )
                for slug in missing
            ],
            ignore_conflicts=True,
        )
        ids = dict(VideoModel.objects.filter(slug__in=list(names)).values_list("slug", "pk"))
        report.models_created = missing
    return ids


def import_battles(
    source,
    *,
    pool: str = Prompt.Pool.OFFICIAL,
    default_category: str = "",
    include_named: bool = False,
    strict: bool = False,
) -> ImportReport:
    """Import FastChat clean-battle records from a path or a file object.

    Invalid records are reported (``errors``, with their index) and left out; with ``strict``
    nothing at all is written when any record is invalid. Records with ``anony`` false are
    skipped unless ``include_named`` (then stored with ``Vote.anony`` false). A record already
    imported into this pool (same ``question_id``/``id``, or the same digest when it has none)
    is skipped, so importing a file twice adds nothing. Raises :class:`ImportFormatError` for a
    file that is not JSON.
    """
    started = timezone.now()
    if pool not in Prompt.Pool.values:
        raise ValueError(f"pool must be one of {', '.join(Prompt.Pool.values)}")
    if not isinstance(default_category, str) or len(default_category) > 48:
        raise ValueError("category must be a string of at most 48 characters")
    parsed, issues, fmt = _read(source)
    report = ImportReport(records=len(parsed), format=fmt)
    report.errors.extend(issues)
    bad_lines = {issue.index for issue in issues}
    slug_cache: dict[str, str] = {}
    judge_cache: dict[str, str] = {}
    latest = timezone.now() + timedelta(days=1)
    rows: list[_Row] = []
    seen: set[str] = set()
    for index, (line, record) in enumerate(parsed):
        if index in bad_lines:
            continue
        result = _validate(
            record, default_category=default_category, slug_cache=slug_cache, judge_cache=judge_cache, latest=latest
        )
        if isinstance(result, str):
            report.errors.append(ImportIssue(index, result, line))
            continue
        if not result.anony and not include_named:
            report.skipped[SKIP_NAMED] += 1
            continue
        if result.external_id in seen:
            report.skipped_duplicates += 1
            continue
        seen.add(result.external_id)
        rows.append(result)
    report.errors.sort(key=lambda issue: issue.index)
    if strict and report.errors:
        report.aborted = True
        report.seconds = (timezone.now() - started).total_seconds()
        return report

    with transaction.atomic():
        if connection.vendor == "postgresql":
            sql.lock_imports()
        existing = _existing_external_ids(pool, [row.external_id for row in rows])
        fresh = [row for row in rows if row.external_id not in existing]
        if fresh:
            report.created = _insert_votes(fresh, _models_for(fresh, report), pool)
        # including any record another writer stored between the lookup and the insert
        report.skipped_duplicates += len(rows) - report.created
    report.seconds = (timezone.now() - started).total_seconds()
    return report
