from django.conf import settings
from django.db import models


class Report(models.Model):
    """Someone flagged a clip or a prompt. Repeated reports from one reporter count once."""

    class Reason(models.TextChoices):
        REAL_PERSON = "real_person", "Depicts a real person or public figure"
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Graphic violence"
        HATE = "hate", "Hateful content"
        MISINFORMATION = "misinformation", "Misleading or fake news"
        IDENTIFIES_MODEL = "identifies_model", "Reveals which model made it (logo, watermark)"
        BROKEN = "broken", "Broken or does not play"
        OTHER = "other", "Something else"

    clip = models.ForeignKey("studio.Clip", null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    prompt = models.ForeignKey("studio.Prompt", null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    reporter_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a moderator decides on the target; open reports feed the review queue.
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        permissions = [("moderate", "Can work the review queue: approve, reject, hide and restore")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clip__isnull=False) | models.Q(prompt__isnull=False), name="report_has_a_target"
            ),
            models.UniqueConstraint(
                fields=["reporter_key", "clip"],
                condition=models.Q(clip__isnull=False),
                name="one_report_per_reporter_and_clip",
            ),
            models.UniqueConstraint(
                fields=["reporter_key", "prompt"],
                condition=models.Q(clip__isnull=True, prompt__isnull=False),
                name="one_report_per_reporter_and_prompt",
            ),
        ]

    def __str__(self):
        target = f"clip {self.clip_id}" if self.clip_id else f"prompt {self.prompt_id}"
        return f"report of {target}: {self.reason}"


class AppendOnly(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    """Bulk writes would bypass save(); the audit log refuses them."""

    def update(self, **kwargs):
        raise AppendOnly("audit entries cannot be changed")

    def delete(self):
        raise AppendOnly("audit entries cannot be deleted")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnly("audit entries cannot be changed")


class AuditEntry(models.Model):
    """One moderation decision or policy outcome: who, when, what, why, before and after.
    Append-only: rows are created and never changed or deleted through the ORM or the admin."""

    class Action(models.TextChoices):
        POLICY_ALLOW = "policy_allow", "Policy: allowed"
        POLICY_HOLD = "policy_hold", "Policy: held for review"
        POLICY_REJECT = "policy_reject", "Policy: rejected"
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        HIDE = "hide", "Hidden"
        RESTORE = "restore", "Restored"
        DISMISS = "dismiss", "Reports dismissed"

    class TargetKind(models.TextChoices):
        PROMPT = "prompt", "Prompt"
        CLIP = "clip", "Clip"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the log still says who after an account is deleted ("policy" for the filter).
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices, db_index=True)
    # The target's public id; empty for a rejected submission, which stores no prompt row.
    target_id = models.CharField(max_length=32, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_kind} {self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise AppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries cannot be deleted")
