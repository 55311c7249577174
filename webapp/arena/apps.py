from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "webapp.arena"
    verbose_name = "Arena: battles, votes, ratings"

    def ready(self):
        from webapp.studio.signals import named_results_viewed

        from .services.voters import record_named_view

        named_results_viewed.connect(record_named_view, dispatch_uid="arena-named-view")
