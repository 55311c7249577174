from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "webapp.arena"
    verbose_name = "Arena: battles, votes, ratings"

    def ready(self):
        # Django's documented place to connect receivers: the app registry is ready here.
        from . import receivers  # noqa: F401
