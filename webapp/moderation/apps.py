from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "webapp.moderation"
    verbose_name = "Moderation: reports, review queue, audit log"

    def ready(self):
        from . import login_throttle  # noqa: F401  (counts failed logins)
