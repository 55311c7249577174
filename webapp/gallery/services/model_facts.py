"""A model's clips for its page. What Screentest measured of the model, and the articles'
claims beside it, come from webapp/catalog/feature_table.py."""

from __future__ import annotations

from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, JobState, ModerationState


def clips_of(model: VideoModel):
    return (
        Clip.objects.filter(
            job__model=model,
            job__state=JobState.SUCCEEDED,
            hidden=False,
            job__prompt__moderation=ModerationState.ALLOWED,
        )
        .select_related("job__prompt")
        .order_by("-created_at", "-id")
    )
