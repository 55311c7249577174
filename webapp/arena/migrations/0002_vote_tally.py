"""Per-pair tallies of counted votes, kept by database triggers.

PostgreSQL: statement-level AFTER triggers with transition tables, so an INSERT, UPDATE,
DELETE or COPY of a million votes costs one aggregated upsert, and a single vote one small
one. Upserts go in key order, so concurrent multi-row statements lock tally rows in the same
order and cannot deadlock each other. SQLite (the embedded default) has row triggers only.
A vote counts when excluded_reason = '' and anony; the tally keeps the vote's own (model_a,
model_b, winner), as a GROUP BY over arena_vote would return them.
"""

import django.db.models.deletion
from django.db import migrations, models

KEY = "pool, category, model_a_id, model_b_id, winner"

POSTGRESQL_INSTALL = [
    f"""
    CREATE FUNCTION arena_vote_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO arena_votetally AS t ({KEY}, votes)
            SELECT {KEY}, count(*) FROM new_votes WHERE excluded_reason = '' AND anony
            GROUP BY {KEY} ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE SET votes = t.votes + EXCLUDED.votes;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO arena_votetally AS t ({KEY}, votes)
            SELECT {KEY}, -count(*) FROM old_votes WHERE excluded_reason = '' AND anony
            GROUP BY {KEY} ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE SET votes = t.votes + EXCLUDED.votes;
        ELSE
            INSERT INTO arena_votetally AS t ({KEY}, votes)
            SELECT {KEY}, sum(delta) FROM (
                SELECT {KEY}, 1 AS delta FROM new_votes WHERE excluded_reason = '' AND anony
                UNION ALL
                SELECT {KEY}, -1 AS delta FROM old_votes WHERE excluded_reason = '' AND anony
            ) AS changes
            GROUP BY {KEY} HAVING sum(delta) <> 0 ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE SET votes = t.votes + EXCLUDED.votes;
        END IF;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER arena_vote_tally_insert AFTER INSERT ON arena_vote
       REFERENCING NEW TABLE AS new_votes FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally()""",
    """CREATE TRIGGER arena_vote_tally_update AFTER UPDATE ON arena_vote
       REFERENCING OLD TABLE AS old_votes NEW TABLE AS new_votes FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally()""",
    """CREATE TRIGGER arena_vote_tally_delete AFTER DELETE ON arena_vote
       REFERENCING OLD TABLE AS old_votes FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally()""",
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS arena_vote_tally_insert ON arena_vote",
    "DROP TRIGGER IF EXISTS arena_vote_tally_update ON arena_vote",
    "DROP TRIGGER IF EXISTS arena_vote_tally_delete ON arena_vote",
    "DROP FUNCTION IF EXISTS arena_vote_tally()",
]


def _sqlite_add(row: str, sign: int) -> str:
    values = ", ".join(f"{row}.{column.strip()}" for column in KEY.split(","))
    return (
        f"INSERT INTO arena_votetally ({KEY}, votes) SELECT {values}, {sign} "
        f"WHERE {row}.excluded_reason = '' AND {row}.anony "
        f"ON CONFLICT ({KEY}) DO UPDATE SET votes = votes + ({sign});"
    )


SQLITE_INSTALL = [
    f"CREATE TRIGGER arena_vote_tally_insert AFTER INSERT ON arena_vote BEGIN {_sqlite_add('NEW', 1)} END",
    f"""CREATE TRIGGER arena_vote_tally_update AFTER UPDATE ON arena_vote
        BEGIN {_sqlite_add("OLD", -1)} {_sqlite_add("NEW", 1)} END""",
    f"CREATE TRIGGER arena_vote_tally_delete AFTER DELETE ON arena_vote BEGIN {_sqlite_add('OLD', -1)} END",
]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS arena_vote_tally_{event}" for event in ("insert", "update", "delete")]

BACKFILL = (
    f"INSERT INTO arena_votetally ({KEY}, votes) SELECT {KEY}, count(*) FROM arena_vote "
    f"WHERE excluded_reason = '' AND anony GROUP BY {KEY}"
)


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL_INSTALL if install else POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise NotImplementedError(f"vote tally triggers exist for PostgreSQL and SQLite, not {vendor}")


def install(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(statement, params=None)
    schema_editor.execute(BACKFILL, params=None)


def remove(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("arena", "0001_initial"),
        ("catalog", "0003_feature_claims"),
    ]

    operations = [
        migrations.CreateModel(
            name="VoteTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("pool", models.CharField(max_length=16)),
                ("category", models.CharField(blank=True, max_length=48)),
                (
                    "winner",
                    models.CharField(
                        choices=[
                            ("model_a", "Left better"),
                            ("model_b", "Right better"),
                            ("tie", "Tie"),
                            ("tie (bothbad)", "Both bad"),
                        ],
                        max_length=16,
                    ),
                ),
                ("votes", models.BigIntegerField()),
                (
                    "model_a",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.videomodel",
                    ),
                ),
                (
                    "model_b",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.videomodel",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("pool", "category", "model_a", "model_b", "winner"),
                        name="one_tally_per_pool_category_pair_winner",
                    )
                ],
            },
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
