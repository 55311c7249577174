import logging

from django.contrib import admin, messages

from .models import Clip, GenerationJob, ModerationState, Prompt, UndeletedFile
from .services import jobs

log = logging.getLogger(__name__)


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
    list_display = (
        "id",
        "prompt",
        "model",
        "state",
        "attempts",
        "resend_count",
        "error_code",
        "queued_at",
        "finished_at",
    )
    list_filter = ("state", "model", "error_code")
    search_fields = ("prompt__text", "vendor_job_id")
    list_select_related = ("prompt", "model")
    readonly_fields = [f.name for f in GenerationJob._meta.fields]
    actions = ["retry", "cancel"]

    # Both actions change jobs (and retry spends money at a vendor): they need the change
    # permission, which this admin grants to no one who may only view jobs.
    @admin.action(description="Retry the selected failed jobs", permissions=["change"])
    def retry(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        count = jobs.retry_failed(selected)
        self.message_user(request, f"{count} job(s) queued again.", messages.SUCCESS)
        not_allowed = queryset.exclude(prompt__moderation=ModerationState.ALLOWED).count()
        if not_allowed:
            self.message_user(
                request,
                f"{not_allowed} job(s) not retried: their prompt is held or rejected by moderation.",
                messages.WARNING,
            )

    @admin.action(description="Cancel the selected queued jobs", permissions=["change"])
    def cancel(self, request, queryset):
        # Who cancelled goes to the log and the admin's history, never to the public job text.
        count = jobs.cancel_queued(queryset.values_list("pk", flat=True), f"cancelled by staff user {request.user}")
        log.info("user %s cancelled %d job(s)", request.user, count)
        self.message_user(request, f"{count} job(s) cancelled.", messages.SUCCESS)


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    """The moderation app adds its decisions as actions (webapp/moderation/admin.py)."""

    list_display = ("public_id", "job", "hidden", "width", "height", "fps", "duration_s", "bytes", "created_at")
    list_filter = ("hidden",)
    search_fields = ("public_id", "sha256_original", "sha256_web")
    readonly_fields = [f.name for f in Clip._meta.fields]


@admin.register(UndeletedFile)
class UndeletedFileAdmin(admin.ModelAdmin):
    """Stored files a step could not delete while the media storage was away; beat's reaper
    deletes them once it answers (read only: a row here is work in progress, not a setting)."""

    list_display = ("name", "noted_at", "tries")
    readonly_fields = ("name", "noted_at", "tries")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
