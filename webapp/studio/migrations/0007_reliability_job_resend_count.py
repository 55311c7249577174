from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0006_sound_clip_audio"),
    ]

    operations = [
        migrations.AddField(
            model_name="generationjob",
            name="resend_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
