from django.db import models

from webapp.studio.models import Prompt, new_public_id


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Rendering"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class SideBySideExport(models.Model):
    """A rendered side-by-side MP4 of 2-4 clips of one prompt. One row per selection (the
    prompt plus the sorted clip ids), so asking twice returns the same file. Workers claim the
    row with a compare-and-set UPDATE under a lease, like generation jobs."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    selection_key = models.CharField(
        max_length=64, unique=True, help_text="sha256 of the prompt id and the sorted clip ids"
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="side_by_side_exports")
    clips = models.JSONField(help_text="clip public ids in display order")
    state = models.CharField(max_length=12, choices=ExportState.choices, default=ExportState.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0..1 while rendering")
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a render message was last sent (empty: none is on its way); the reaper's clock.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"export {self.public_id} {self.state}"

    @property
    def is_terminal(self) -> bool:
        return self.state in (ExportState.SUCCEEDED, ExportState.FAILED)

    @property
    def percent(self) -> int:
        return int(round(self.progress * 100))
