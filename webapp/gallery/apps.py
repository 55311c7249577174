from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "webapp.gallery"
    verbose_name = "Gallery and comparison"

    def ready(self):
        # Django's documented place to connect receivers: the app registry is ready here.
        from . import receivers  # noqa: F401
