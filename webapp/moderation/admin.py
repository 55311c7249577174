from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from webapp.studio.admin import ClipAdmin, PromptAdmin
from webapp.studio.models import Clip, Prompt

from .decisions import DecisionError, decide
from .models import AuditEntry, Report
from .permissions import MODERATE


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason", "clip", "prompt", "note", "resolved_at")
    list_filter = ("reason", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = [f.name for f in Report._meta.fields]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ("created_at", "actor_label", "action", "target_kind", "target_id", "reason")
    list_filter = ("action", "target_kind")
    search_fields = ("target_id", "actor_label", "reason")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason",
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Why? (required)"}),
    )


class ModerationActions(admin.ModelAdmin):
    """Mixed into the studio's Prompt and Clip admins: the review queue's decisions as admin
    actions, with the reason typed next to the action menu."""

    action_form = ReasonActionForm
    moderation_kind = ""

    def has_moderate_permission(self, request):
        return request.user.has_perm(MODERATE)

    def _decide(self, request, queryset, action):
        try:
            done, errors = decide(
                self.moderation_kind,
                action,
                list(queryset.values_list("public_id", flat=True)),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except DecisionError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{len(done)} {self.moderation_kind}(s): {action} done.", messages.SUCCESS)
        for error in errors:
            self.message_user(request, f"{error['target_id']}: {error['message']}", messages.WARNING)


class PromptModerationActions(ModerationActions):
    moderation_kind = "prompt"

    @admin.action(description="Approve the selected prompts (reason required)", permissions=["moderate"])
    def approve_prompts(self, request, queryset):
        self._decide(request, queryset, "approve")

    @admin.action(
        description="Reject the selected prompts: cancel jobs, delete files (reason required)", permissions=["moderate"]
    )
    def reject_prompts(self, request, queryset):
        self._decide(request, queryset, "reject")

    moderation_actions = ["approve_prompts", "reject_prompts"]


class ClipModerationActions(ModerationActions):
    moderation_kind = "clip"

    @admin.action(description="Hide the selected clips (reason required)", permissions=["moderate"])
    def hide_clips(self, request, queryset):
        self._decide(request, queryset, "hide")

    @admin.action(description="Restore the selected clips (reason required)", permissions=["moderate"])
    def restore_clips(self, request, queryset):
        self._decide(request, queryset, "restore")

    @admin.action(
        description="Keep the selected clips and close their reports (reason required)", permissions=["moderate"]
    )
    def approve_clips(self, request, queryset):
        self._decide(request, queryset, "approve")

    moderation_actions = ["hide_clips", "restore_clips", "approve_clips"]


admin.site.unregister(Prompt)
admin.site.unregister(Clip)


# The studio's Prompt and Clip admins, with the review queue's decisions as actions.
@admin.register(Prompt)
class ModeratedPromptAdmin(PromptModerationActions, PromptAdmin):
    actions = PromptModerationActions.moderation_actions


@admin.register(Clip)
class ModeratedClipAdmin(ClipModerationActions, ClipAdmin):
    actions = ClipModerationActions.moderation_actions
