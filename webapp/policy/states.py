"""Where a prompt stands with moderation. Set by the prompt policy at submission, then by a
moderator's decision (webapp/moderation/decisions.py)."""

from django.db import models


class ModerationState(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    HELD = "held", "Awaits review"
    REJECTED = "rejected", "Rejected"


# The permission a moderator holds (the moderation app defines it). Lower layers ask for it by
# this name when they decide what a visitor may see: the text of a held or rejected prompt is
# for moderators only.
MODERATE_PERMISSION = "moderation.moderate"


def can_moderate(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(MODERATE_PERMISSION))
