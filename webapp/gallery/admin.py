from django.contrib import admin

from .models import SideBySideExport


@admin.register(SideBySideExport)
class SideBySideExportAdmin(admin.ModelAdmin):
    """Exports are made by workers; an operator looks, and may delete a row to have it made again."""

    list_display = ("public_id", "prompt", "state", "progress", "attempts", "error_code", "created_at", "finished_at")
    list_filter = ("state", "error_code")
    list_select_related = ("prompt",)
    search_fields = ("public_id", "prompt__text")
    readonly_fields = [f.name for f in SideBySideExport._meta.fields]

    def has_add_permission(self, request):
        return False
