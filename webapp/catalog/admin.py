from django.contrib import admin

from .models import VideoModel


@admin.register(VideoModel)
class VideoModelAdmin(admin.ModelAdmin):
    list_display = ("display_name", "slug", "vendor", "backend_key", "is_procedural_demo", "enabled", "max_duration_s")
    list_filter = ("enabled", "backend_key", "is_procedural_demo")
    search_fields = ("slug", "display_name", "vendor")
    prepopulated_fields = {"slug": ("display_name",)}
    list_editable = ("enabled",)
