from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sidebysideexport",
            name="enqueued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
