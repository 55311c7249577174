"""The public media URL: blind renditions and posters of visible clips, with HTTP Range."""

from __future__ import annotations

import re

from django.db.models import Q
from django.http import Http404
from django.views.decorators.http import require_http_methods

from webapp.core.file_responses import serve_stored_file

from .models import Clip, ModerationState

# Only the blind renditions and posters are public; originals keep the vendor's metadata.
PUBLIC_MEDIA = re.compile(r"^(clips|posters)/[A-Za-z0-9_-]{8,64}\.(mp4|jpg)$")


@require_http_methods(["GET", "HEAD"])
def serve_media(request, path: str):
    if not PUBLIC_MEDIA.match(path):
        raise Http404("no such media")
    if (
        Clip.objects.filter(Q(web=path) | Q(poster=path))
        .filter(Q(hidden=True) | ~Q(job__prompt__moderation=ModerationState.ALLOWED))
        .exists()
    ):
        raise Http404("no such media")  # hidden by a moderator
    return serve_stored_file(request, path)
