"""Full-text search for the gallery on PostgreSQL: a stored generated tsvector column over the
prompt text ('english' configuration: stemmed, stop words dropped) and a GIN index on it.

The column is not a model field: only webapp/gallery/services/search.py reads it, and only on
PostgreSQL. On SQLite (the embedded stack) this migration does nothing and the gallery falls
back to a case-insensitive substring match. A stored column rather than an index on the
expression: when the planner walks the newest-first index and filters (common words, deep
pages), each row's check is then a tsvector match, not a fresh to_tsvector() parse of its text.
"""

from django.db import migrations

COLUMN = "search_document"
FORWARD = (
    f"ALTER TABLE studio_prompt ADD COLUMN {COLUMN} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED",
    f"CREATE INDEX prompt_search_document ON studio_prompt USING gin ({COLUMN})",
)
BACKWARD = ("DROP INDEX IF EXISTS prompt_search_document", f"ALTER TABLE studio_prompt DROP COLUMN IF EXISTS {COLUMN}")


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0008_ux_job_released_at"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
