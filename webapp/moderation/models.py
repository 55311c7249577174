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
    prompt = models.ForeignKey("studio.Prompt", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="reports")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    reporter_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(clip__isnull=False) | models.Q(prompt__isnull=False),
                                   name="report_has_a_target"),
            models.UniqueConstraint(fields=["reporter_key", "clip"], condition=models.Q(clip__isnull=False),
                                    name="one_report_per_reporter_and_clip"),
            models.UniqueConstraint(fields=["reporter_key", "prompt"],
                                    condition=models.Q(clip__isnull=True, prompt__isnull=False),
                                    name="one_report_per_reporter_and_prompt"),
        ]
