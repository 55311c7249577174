"""Where a prompt stands with moderation. Set by the prompt policy at submission, then by a
moderator's decision (webapp/moderation/decisions.py)."""

from django.db import models


class ModerationState(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    HELD = "held", "Awaits review"
    REJECTED = "rejected", "Rejected"
