from django.contrib import admin

from workers.backends.registry import UnknownBackend, catalog_class
from workers.backends.vendor import load_config

from .models import VideoModel


@admin.register(VideoModel)
class VideoModelAdmin(admin.ModelAdmin):
    """`backend_params` holds the model's settings; where requests go and which keys they carry
    are shown read-only (`endpoint`): they are the adapter's or the environment's, and
    VideoModel.clean() refuses params that try to set them."""

    list_display = ("display_name", "slug", "vendor", "backend_key", "is_procedural_demo", "enabled", "max_duration_s")
    list_filter = ("enabled", "backend_key", "is_procedural_demo")
    search_fields = ("slug", "display_name", "vendor")
    prepopulated_fields = {"slug": ("display_name",)}
    list_editable = ("enabled",)
    readonly_fields = ("endpoint",)

    @admin.display(description="Endpoint and keys (set by the adapter or the environment)")
    def endpoint(self, obj: VideoModel) -> str:
        if not obj.backend_key:
            return "—"
        try:
            cls = catalog_class(obj.backend_key)
        except (UnknownBackend, ImportError, AttributeError):
            return f"unknown backend {obj.backend_key!r}"
        keys = ", ".join(getattr(cls, "key_env_names", ())) or "none"
        base = load_config(cls(), {}).base_url if hasattr(cls, "default_base_url") else "(local, no network)"
        return f"{base}; keys from {keys}"
