"""FastChat's clean-battle schema, in and out, and leaderboard exports.

Export: one FastChat clean-battle record per vote (``question_id, model_a, model_b, winner,
judge, turn, anony, language, tstamp``, no conversations: FastChat's ``--mode simple``) plus
our own columns (``vote_id, battle_id, prompt, pool, category, excluded_reason, source``).
Records are streamed from a server-side cursor, so a million votes never sit in memory.

Import: a JSON array or JSON Lines of clean-battle records (only ``model_a``, ``model_b`` and
``winner`` are required). Every record is validated first; then, in one transaction, missing
models are created (disabled, known only from votes) and the votes are bulk-inserted.
``Vote.anony`` keeps the record's ``anony`` (named records, ``anony: false``, are imported only
with ``include_named``; they are exported again with ``anony: false`` and never count).

Privacy: a judge is never exported as given. Arena votes export ``arena_user_`` + the first
16 hex digits of the voter key (an HMAC of the session under the site secret); imported votes
store an HMAC of the file's judge (FastChat judges may be raw IPs) and export it the same way.

Deduplication: ``Vote.external_id`` is the record's ``question_id`` (or ``id``); a record
without one gets ``sha256:<digest of model_a, model_b, winner, judge, tstamp>``, which is never
exported (with a known judge format the digest could be brute-forced back to an IP). A unique
constraint (``one_import_per_external_id_and_pool``) stores each external_id at most once per
pool. Records already in the pool are looked up first and reported as skipped duplicates; the
insert itself skips any that a concurrent writer committed in the meantime (PostgreSQL: COPY into
a temporary table, then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``), so importing a file
twice, even at the same time, adds nothing. Imports into PostgreSQL still run one at a time (a
transaction advisory lock), only so that two files sharing records cannot deadlock.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from webapp.catalog.models import VideoModel
from webapp.studio.models import Prompt

from ..models import RatingSnapshot, Vote, Winner

# --------------------------------------------------------------------------------------------
# Battle export
# --------------------------------------------------------------------------------------------

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
ALL_POOLS = "all"
POOL_CHOICES = (*Prompt.Pool.values, ALL_POOLS)
FORMATS = ("json", "csv")
CHUNK_SIZE = 5000

HASH_PREFIX = "sha256:"
MAX_EXTERNAL_ID = 100  # of Vote.external_id's 128 characters


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
        votes = votes.filter(excluded_reason="")
    return votes.order_by("id")


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
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for (
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
    ) in rows:
        question_id = None
        if source == Vote.Source.IMPORT:
            if external_id and not external_id.startswith(HASH_PREFIX):
                question_id = external_id
        else:
            question_id = battle_id or f"vote-{vote_id}"
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
            "battle_id": battle_id,
            "prompt": prompt,
            "pool": pool,
            "category": category,
            "excluded_reason": excluded_reason,
            "source": source,
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


def iter_csv(records: Iterable[dict], fields: tuple[str, ...] = BATTLE_FIELDS) -> Iterator[str]:
    writer = csv.DictWriter(_Line(), fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    yield writer.writeheader()
    for record in records:
        yield writer.writerow({key: _csv_value(record.get(key)) for key in fields})


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_json(records: Iterable[dict], fh: IO[str]) -> int:
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


def write_csv(records: Iterable[dict], fh: IO[str], fields: tuple[str, ...] = BATTLE_FIELDS) -> int:
    """Write a header row and one row per record; returns how many records were written."""
    count = -1
    for chunk in iter_csv(records, fields):
        fh.write(chunk)
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# Battle import
# --------------------------------------------------------------------------------------------

IMPORT_VENDOR = "imported"
WINNER_LABELS = frozenset(Winner.values)
SKIP_NAMED = "named battle (anony is not true)"


class ImportFormatError(ValueError):
    """The file is not JSON or JSON Lines at all (or not a list of records)."""


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
            return [(None, record) for record in whole], [], "json"
        if isinstance(whole, dict):  # one record (a one-line JSON Lines file)
            return [(1, whole)], [], "jsonl"
        raise ImportFormatError("expected a JSON array of battle records or JSON Lines")
    records, issues, objects = [], [], 0
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
        key = cache[text] = hmac.new(
            settings.SECRET_KEY.encode(), f"judge:{text}".encode(), hashlib.sha256
        ).hexdigest()[:40]
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
    if not isinstance(excluded, str) or len(excluded) > 48:
        return "excluded_reason must be a string of at most 48 characters"
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
    )


def _existing_external_ids(pool: str, candidates: list[str]) -> set[str]:
    """The candidates already stored in the pool (any source: the unique constraint's scope)."""
    found = set()
    if connection.vendor == "postgresql":  # one array parameter per chunk instead of 5,000
        table = connection.ops.quote_name(Vote._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(candidates), 50_000):
                # "external_id <> ''" lets the planner use the constraint's partial index.
                cursor.execute(
                    f"SELECT external_id FROM {table} WHERE pool = %s AND external_id <> '' AND external_id = ANY(%s)",
                    [pool, candidates[start : start + 50_000]],
                )
                found.update(r[0] for r in cursor.fetchall())
        return found
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
                    )
                    for row in rows[start : start + CHUNK_SIZE]
                ],
                ignore_conflicts=True,
            )
        return Vote.objects.filter(pool=pool).count() - before
    fields = [f for f in Vote._meta.concrete_fields if not f.primary_key]
    known = (
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
    )
    # Columns this import does not set get their model default (a field added later included).
    extra = [f for f in fields if f.attname not in known]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
    by_attname = {f.attname: f for f in fields}
    quote = connection.ops.quote_name
    table, staging = quote(Vote._meta.db_table), quote("screentest_import_votes")
    columns = ", ".join(quote(f.column) for f in [by_attname[k] for k in known] + extra)
    with connection.cursor() as cursor:
        # Inside an outer transaction (tests) a previous import's table may still exist.
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT 0::integer AS position, {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} (position, {columns}) FROM STDIN") as copy:
            for position, row in enumerate(rows):
                copy.write_row(
                    (
                        position,
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
                    )
                    + defaults
                )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ORDER BY position "
            f"ON CONFLICT (pool, external_id) WHERE external_id <> '' DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


def _models_for(rows: list[_Row], report: ImportReport) -> dict[str, int]:
    names = {}
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
            # Not for uniqueness (the constraint sees to that): two imports sharing records in a
            # different order would each wait on the other's rows (a deadlock); one at a time.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('screentest.import_battles'))")
        existing = _existing_external_ids(pool, [row.external_id for row in rows])
        fresh = [row for row in rows if row.external_id not in existing]
        if fresh:
            report.created = _insert_votes(fresh, _models_for(fresh, report), pool)
        # including any record another writer stored between the lookup and the insert
        report.skipped_duplicates += len(rows) - report.created
    report.seconds = (timezone.now() - started).total_seconds()
    return report


# --------------------------------------------------------------------------------------------
# Leaderboard export
# --------------------------------------------------------------------------------------------

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


def leaderboard_records(snapshot: RatingSnapshot) -> list[dict]:
    return [{key: row.get(key) for key in LEADERBOARD_FIELDS} for row in snapshot.rows]


def leaderboard_document(snapshot: RatingSnapshot) -> dict:
    return {
        "pool": snapshot.pool,
        "category": snapshot.category,
        "computed_at": snapshot.created_at.isoformat(),
        "votes_counted": snapshot.votes_counted,
        "bootstrap_rounds": snapshot.bootstrap_rounds,
        "models": leaderboard_records(snapshot),
    }


def write_leaderboard_json(snapshot: RatingSnapshot, fh: IO[str]) -> None:
    json.dump(leaderboard_document(snapshot), fh, ensure_ascii=False, indent=2)
    fh.write("\n")


def write_leaderboard_csv(snapshot: RatingSnapshot, fh: IO[str]) -> None:
    write_csv(leaderboard_records(snapshot), fh, LEADERBOARD_FIELDS)


def leaderboard_csv(snapshot: RatingSnapshot) -> str:
    buffer = io.StringIO()
    write_leaderboard_csv(snapshot, buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Command output
# --------------------------------------------------------------------------------------------


class _Unterminated:
    """Django's OutputWrapper adds a newline to every write; exports write raw chunks."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


@contextmanager
def output_stream(path: str | None, stdout) -> Iterator[IO[str]]:
    """``stdout`` (a command's OutputWrapper) when path is empty or "-", else the file, written
    under a temporary name and renamed at the end so a failed export leaves no half file."""
    if not path or path == "-":
        yield _Unterminated(stdout)
        return
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
