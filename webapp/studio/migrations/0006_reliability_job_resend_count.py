from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0005_clip_tagged_original"),
    ]

    operations = [
        migrations.AddField(
            model_name="generationjob",
            name="resend_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
