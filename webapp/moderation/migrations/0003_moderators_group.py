"""The moderators group with the permission every moderation view and action checks, plus
read access to reports and the audit log in the admin."""

from django.db import migrations

GROUP = "moderators"
PERMISSIONS = {
    "report": [
        ("moderate", "Can work the review queue: approve, reject, hide and restore"),
        ("view_report", "Can view report"),
    ],
    "auditentry": [("view_auditentry", "Can view audit entry")],
}


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for model, perms in PERMISSIONS.items():
        # Permissions are normally created after migrations (post_migrate); make them now.
        content_type, _ = ContentType.objects.get_or_create(app_label="moderation", model=model)
        for codename, name in perms:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
            group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_audit_log_and_report_resolution"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
