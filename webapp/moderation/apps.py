from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "webapp.moderation"
    verbose_name = "Moderation: reports"
