"""Public prompts newest first, with each one's search tsvector in the index.

A gallery text search walks public prompts newest first and checks each one's tsvector until
it has a page's worth (or the paginator's MAX_RESULTS) of matches. With the tsvector in the
index (INCLUDE), PostgreSQL does that walk in the index alone, an Index Only Scan, instead of
reading each prompt's row from the table: "fox" (40 % of a million prompts), page 834, went
from 19-36 ms to about 10 ms of SQL, and a rare word's first page from 26-51 ms to 10-14 ms
(benchmarks/gallery_page.py; docs/figures.md).

It replaces prompt_public_newest (0011: the same keys and condition, without the tsvector): with
both, the planner took the smaller one plus a table read per row at some sizes. The lone
created_at index goes too: prompt_newest_first (created_at DESC, id DESC) serves every order and
range on the column, and at a million prompts the planner walked the lone index, reading every
row, over the covering one. The tsvector is PostgreSQL's (0009); SQLite gets the same index
without it.
"""

from django.db import migrations, models

NAME = "prompt_public_newest_search"
KEYS_AND_CONDITION = "ON studio_prompt (created_at DESC, id DESC) {include} WHERE moderation = 'allowed'"


def create(apps, schema_editor):
    include = "INCLUDE (search_document)" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {NAME} " + KEYS_AND_CONDITION.format(include=include))


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0014_drop_job_prompt_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="prompt",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.RemoveIndex(model_name="prompt", name="prompt_public_newest"),
        migrations.RunPython(create, drop, elidable=False),
    ]
