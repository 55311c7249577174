"""Every hand-written SQL statement of the arena, in one place. Table and column names come
from the models' _meta, so a renamed field or table cannot leave a statement behind.

Each exists for a measured reason: the vote path compiled the ORM's query for longer than it
ran it (benchmarks/vote_load.py); the import streams rows with PostgreSQL's COPY; the rest are
locks and isolation levels the ORM has no words for. Migrations keep their own SQL (triggers).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, GenerationJob, Prompt

from .models import Battle, NamedView, Vote


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _quote(model._meta.db_table)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is a relation, not a column"
    return _field_column(field)


def _field_column(field) -> str:
    assert field.column, f"{field} has no column"
    return _quote(field.column)


# --- the vote path ----------------------------------------------------------------------------

BATTLE_FOR_VOTE_FIELDS = (
    "id",
    "voter_key",
    "pool",
    "state",
    "named_when_served",
    "duration_s",
    "left_fetched_at",
    "right_fetched_at",
    "prompt__category",
    "vote__id",
    "left__duration_s",
    "left__hidden",
    "right__duration_s",
    "right__hidden",
    "left__job__model_id",
    "left__job__model__slug",
    "left__job__model__display_name",
    "left__job__model__is_procedural_demo",
    "right__job__model_id",
    "right__job__model__slug",
    "right__job__model__display_name",
    "right__job__model__is_procedural_demo",
    "named",
)


@functools.cache
def _battle_for_vote_sql() -> str:
    b, p, v, n = Battle, Prompt, Vote, NamedView
    c, j, m = Clip, GenerationJob, VideoModel
    pk = "id"

    def model_side(alias: str) -> str:
        return (
            f"{alias}m.{_column(m, pk)}, {alias}m.{_column(m, 'slug')}, "
            f"{alias}m.{_column(m, 'display_name')}, {alias}m.{_column(m, 'is_procedural_demo')}"
        )

    def joins(alias: str, side: str) -> str:
        return (
            f"JOIN {_table(c)} {alias}c ON {alias}c.{_column(c, pk)} = b.{_column(b, side)} "
            f"JOIN {_table(j)} {alias}j ON {alias}j.{_column(j, pk)} = {alias}c.{_column(c, 'job')} "
            f"JOIN {_table(m)} {alias}m ON {alias}m.{_column(m, pk)} = {alias}j.{_column(j, 'model')} "
        )

    return (
        f"SELECT b.{_column(b, pk)}, b.{_column(b, 'voter_key')}, b.{_column(b, 'pool')}, "
        f"b.{_column(b, 'state')}, b.{_column(b, 'named')}, b.{_column(b, 'duration_s')}, "
        f"b.{_column(b, 'left_fetched_at')}, b.{_column(b, 'right_fetched_at')}, "
        f"p.{_column(p, 'category')}, v.{_column(v, pk)}, "
        f"lc.{_column(c, 'duration_s')}, lc.{_column(c, 'hidden')}, "
        f"rc.{_column(c, 'duration_s')}, rc.{_column(c, 'hidden')}, "
        f"{model_side('l')}, {model_side('r')}, "
        f"EXISTS(SELECT 1 FROM {_table(n)} n WHERE n.{_column(n, 'prompt')} = b.{_column(b, 'prompt')} "
        f"AND n.{_column(n, 'voter_key')} = %s) "
        f"FROM {_table(b)} b "
        f"JOIN {_table(p)} p ON p.{_column(p, pk)} = b.{_column(b, 'prompt')} "
        f"LEFT JOIN {_table(v)} v ON v.{_column(v, 'battle')} = b.{_column(b, pk)} "
        f"{joins('l', 'left')}{joins('r', 'right')}"
        f"WHERE b.{_column(b, 'public_id')} = %s"
    )


def battle_for_vote(public_id: str, voter_key: str) -> dict[str, Any] | None:
    """Everything a vote needs, in one query: the battle, its clips' durations and hidden
    flags, both models (for the reveal), the prompt's category, an existing vote, and whether
    this voter has seen the prompt's named results. Keys are BATTLE_FOR_VOTE_FIELDS."""
    with connection.cursor() as cursor:
        cursor.execute(_battle_for_vote_sql(), [voter_key, public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    found = dict(zip(BATTLE_FOR_VOTE_FIELDS, row))
    for name in ("left_fetched_at", "right_fetched_at"):
        found[name] = _aware(found[name])
    return found


def _aware(value: Any) -> datetime | None:
    """A timestamp read by raw SQL as the ORM would read it: SQLite hands back naive UTC text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


_VOTE_FIELDS = [f for f in Vote._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_vote_sql() -> str:
    columns = ", ".join(_field_column(f) for f in _VOTE_FIELDS)
    values = ", ".join(["%s"] * len(_VOTE_FIELDS))
    return f"INSERT INTO {_table(Vote)} ({columns}) VALUES ({values}) RETURNING {_field_column(Vote._meta.pk)}"


@functools.cache
def _close_battle_sql() -> str:
    return (
        f"UPDATE {_table(Battle)} SET {_column(Battle, 'state')} = %s, {_column(Battle, 'finished_at')} = %s "
        f"WHERE {_column(Battle, 'id')} = %s"
    )


@functools.cache
def _insert_vote_and_close_battle_sql() -> str:
    """PostgreSQL: both writes in one statement (a data-modifying CTE), one round trip."""
    return f"WITH closed AS ({_close_battle_sql()}) {_insert_vote_sql()}"


def insert_vote(vote: Vote, *, battle_state: str) -> None:
    """``vote.save()`` for a new vote, and its battle set to `battle_state`, atomically and
    without the ORM's per-call SQL compilation (a third of the endpoint's CPU in
    benchmarks/vote_load.py). Columns and conversions come from the model, so a new field is
    inserted too. Vote has no save signals to skip."""
    params = [f.get_db_prep_save(getattr(vote, f.attname), connection) for f in _VOTE_FIELDS]
    closing = [battle_state, Battle._meta.get_field("finished_at").get_db_prep_save(vote.created_at, connection)]
    closing.append(vote.battle_id)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_insert_vote_and_close_battle_sql(), closing + params)
            vote.pk = cursor.fetchone()[0]
        else:
            with transaction.atomic():
                cursor.execute(_insert_vote_sql(), params)
                vote.pk = cursor.fetchone()[0]
                cursor.execute(_close_battle_sql(), closing)
    vote._state.adding, vote._state.db = False, connection.alias


# --- importing votes (PostgreSQL) -------------------------------------------------------------


def external_ids_in_pool(pool: str, candidates: list[str], *, chunk: int = 50_000) -> set[str]:
    """Which candidates are already stored in the pool: one array parameter per chunk instead
    of an IN list of thousands."""
    found: set[str] = set()
    table, external_id, pool_column = _table(Vote), _column(Vote, "external_id"), _column(Vote, "pool")
    with connection.cursor() as cursor:
        for start in range(0, len(candidates), chunk):
            # "external_id <> ''" lets the planner use the unique constraint's partial index.
            cursor.execute(
                f"SELECT {external_id} FROM {table} WHERE {pool_column} = %s AND {external_id} <> '' "
                f"AND {external_id} = ANY(%s)",
                [pool, candidates[start : start + chunk]],
            )
            found.update(r[0] for r in cursor.fetchall())
    return found


def copy_new_votes(attnames: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert votes (`rows` of values for `attnames`, in order) with COPY into a temporary
    table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` in file order, so records
    already in the pool are skipped even if a concurrent import stored them meanwhile (100k
    rows in about three seconds). Columns not named get their model default. Returns how many
    were inserted."""
    fields = {f.attname: f for f in _VOTE_FIELDS}
    extra = [f for f in _VOTE_FIELDS if f.attname not in attnames]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
    table, staging = _table(Vote), _quote("screentest_import_votes")
    columns = ", ".join(_field_column(f) for f in [fields[name] for name in attnames] + extra)
    external_id, pool = _column(Vote, "external_id"), _column(Vote, "pool")
    with connection.cursor() as cursor:
        # Inside an outer transaction (tests) a previous import's table may still exist.
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT 0::integer AS position, {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} (position, {columns}) FROM STDIN") as copy:
            for position, row in enumerate(rows):
                copy.write_row((position, *row, *defaults))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ORDER BY position "
            f"ON CONFLICT ({pool}, {external_id}) WHERE {external_id} <> '' DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


def lock_imports() -> None:
    """PostgreSQL: imports run one at a time, for this transaction. Not for uniqueness (the
    constraint sees to that): two imports sharing records in a different order would each wait
    on the other's rows (a deadlock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('screentest.import_battles'))")


# --- tallies ----------------------------------------------------------------------------------


def repeatable_read() -> None:
    """PostgreSQL: the rest of this (outermost, just begun) transaction reads one snapshot."""
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def block_vote_writers() -> None:
    """PostgreSQL: vote writers wait until this transaction ends; readers do not."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_table(Vote)} IN SHARE MODE")
