from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ModerationConfig(AppConfig):
    name = "webapp.moderation"
    verbose_name = "Moderation: reports, review queue, audit log"

    def ready(self):
        # Django's documented place to connect receivers: the app registry is ready here.
        from . import receivers  # noqa: F401
        from .permissions import ensure_moderators_group

        post_migrate.connect(ensure_moderators_group, sender=self, dispatch_uid="moderators-group")
