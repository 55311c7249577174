"""A model's clips for its page. What Screentest measured of the model, and the articles'
claims beside it, come from feature_table.py."""

from __future__ import annotations

from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, JobState


def clips_of(model: VideoModel):
    return (
        Clip.objects.public()
        .filter(job__model=model, job__state=JobState.SUCCEEDED)
        .select_related("job__prompt")
        .order_by("-created_at", "-id")
    )
