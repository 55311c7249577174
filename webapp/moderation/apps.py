from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "webapp.moderation"
    verbose_name = "Moderation: reports, review queue, audit log"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import login_throttle  # noqa: F401  (counts failed logins)
        from .permissions import ensure_moderators_group

        post_migrate.connect(ensure_moderators_group, sender=self, dispatch_uid="moderators-group")
