"""The named original's download: made once, on the media queue, never in a web request.

The download is the vendor's original with Screentest's provenance record as its `comment`
tag (an ffmpeg re-mux of a file of up to MEDIA_MAX_BYTES), or the original byte for byte
when it carries a C2PA manifest. A web request only serves files: the first request for a
clip's tagged copy sends one task (deduplicated in the cache, so a crowd of requests sends one
message) and answers 202 with Retry-After; the task stores the copy under a random name and
records it on the clip, unless the clip was hidden or its prompt rejected meanwhile (then the
copy is deleted again). A rejected prompt's decision deletes it with the clip's other files.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction

from webapp.core.media_tools import media_tools
from webapp.core.storage import local_copy, name_of, scratch_dir, store
from webapp.core.tasks import send_on_commit
from workers import media

from ..models import Clip, ModerationState
from ..provenance import tagged_comment
from .queue import TAG_ORIGINAL
from .undeleted import discard

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
# One message per clip per this many seconds, however many visitors ask meanwhile.
REQUEST_DEDUPE_S = 120


def ready_name(clip: Clip) -> str | None:
    """The stored file to send for the named download now, or None while it is being made."""
    if clip.c2pa_present:
        return name_of(clip.original)
    return clip.tagged_original.name or None


def request_tagged_original(clip: Clip) -> None:
    """Ask the media queue to make the clip's tagged copy (at most once per REQUEST_DEDUPE_S)."""
    if cache.add(f"tag-original:{clip.pk}", 1, timeout=REQUEST_DEDUPE_S):
        with transaction.atomic():
            send_on_commit(TAG_ORIGINAL, clip.pk)


def make_tagged_original(clip_id: int) -> str | None:
    """Task body: store the tagged copy and record it on the clip. Returns its name, or None
    when there is nothing to do (made already, C2PA original, clip gone, hidden or rejected)."""
    clip = Clip.objects.public().select_related("job__prompt", "job__model").filter(pk=clip_id).first()
    if clip is None or clip.tagged_original.name or clip.c2pa_present or not clip.original.name:
        return None
    with scratch_dir("provenance-") as workdir:
        source = local_copy(name_of(clip.original), workdir)
        suffix = source.suffix.lower() or ".mp4"
        dest = workdir / ("tagged" + suffix)
        media.make_tagged_copy(source, dest, comment=tagged_comment(clip), tools=media_tools())
        name = store(dest, "originals", suffix)
    recorded = Clip.objects.filter(
        pk=clip.pk, tagged_original="", hidden=False, job__prompt__moderation=ModerationState.ALLOWED
    ).update(tagged_original=name)
    if not recorded:  # made by another worker, or hidden/rejected while we worked
        discard(name)
        return None
    log.info("clip %s: tagged original stored", clip.public_id)
    return name
