from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "webapp.studio"
    verbose_name = "Prompts, jobs and clips"

    def ready(self):
        from . import checks  # noqa: F401  (registers the ffmpeg check)
