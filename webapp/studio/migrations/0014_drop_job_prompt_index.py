# The jobs table's own index on prompt_id is redundant: job_prompt_state (prompt_id, state),
# from 0012, and the unique one_job_per_prompt_and_model (prompt_id, model_id) both start with
# that column, so every lookup, join and cascade by prompt uses one of them.
#
# Only the index is dropped. Django's AlterField(db_index=False) would also drop and re-add the
# foreign key, which re-checks every row of the table under lock; the index's name is the one
# Django gave it (a hash of table and column, the same on PostgreSQL and SQLite).

import django.db.models.deletion
from django.db import migrations, models

INDEX = "studio_generationjob_prompt_id_e832593d"


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0013_undeleted_file"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="generationjob",
                    name="prompt",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="jobs",
                        to="studio.prompt",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "studio_generationjob" ("prompt_id")',
                ),
            ],
        ),
    ]
