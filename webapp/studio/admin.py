from django.contrib import admin, messages

from .models import Clip, GenerationJob, Prompt
from .services import jobs


class JobInline(admin.TabularInline):
    model = GenerationJob
    extra = 0
    can_delete = False
    fields = ("model", "state", "attempts", "vendor_job_id", "error_code", "finished_at")
    readonly_fields = fields
    show_change_link = True


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    """The moderation app adds its decisions as actions (webapp/moderation/admin.py)."""

    list_display = ("text", "source", "moderation", "duration_s", "aspect_ratio", "created_at")
    list_filter = ("source", "moderation", "aspect_ratio")
    search_fields = ("text", "public_id")
    readonly_fields = ("public_id", "created_at")
    inlines = [JobInline]


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "prompt", "model", "state", "attempts", "error_code", "queued_at", "finished_at")
    list_filter = ("state", "model", "error_code")
    search_fields = ("prompt__text", "vendor_job_id")
    list_select_related = ("prompt", "model")
    readonly_fields = [f.name for f in GenerationJob._meta.fields]
    actions = ["retry", "cancel"]

    @admin.action(description="Retry the selected failed jobs")
    def retry(self, request, queryset):
        count = jobs.retry_failed(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} job(s) queued again.", messages.SUCCESS)

    @admin.action(description="Cancel the selected queued jobs")
    def cancel(self, request, queryset):
        count = jobs.cancel_queued(queryset.values_list("pk", flat=True), f"cancelled by {request.user}")
        self.message_user(request, f"{count} job(s) cancelled.", messages.SUCCESS)


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    """The moderation app adds its decisions as actions (webapp/moderation/admin.py)."""

    list_display = ("public_id", "job", "hidden", "width", "height", "fps", "duration_s", "bytes", "created_at")
    list_filter = ("hidden",)
    search_fields = ("public_id", "sha256_original", "sha256_web")
    readonly_fields = [f.name for f in Clip._meta.fields]
