"""Per-clip measurements (workers/media/measure.py, docs/metrics.md) on the media queue.

A new clip is measured by its own task once its row is committed, so a slow or failing
measurement never delays or fails the clip itself. A clip whose `measurements_version` is
older than MEASUREMENTS_VERSION (0 = never measured, including one whose message was lost) is
measured again by `send_outdated`, a bounded batch at a time (beat, or `manage.py
measure_clips`). A clip that cannot be measured gets every metric as None under the current
version, so it is not retried forever; the reason is logged.

With CLIP_MODEL_PATH set, the clip's frames are also scored against its prompt by CLIP
(workers/media/neural.py); when that model cannot be used here, the key is stored as None and
the reason logged, and every other measurement is stored as usual.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webapp.core.media_tools import media_tools
from webapp.core.storage import local_copy, name_of, scratch_dir
from webapp.core.tasks import send_on_commit
from workers import media
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS, FrameMetrics, measure_clip
from workers.media.neural import TEXT_ALIGNMENT_KEY, NeuralMetricUnavailable, load_text_alignment

from ..models import Clip
from .queue import MEASURE_CLIP

log = logging.getLogger(__name__)

# Clips sent per run of the background recompute: bounded, so a version bump cannot flood the
# media queue ahead of new clips.
RECOMPUTE_BATCH = 50


def request_measurement(clip_id: int) -> None:
    """Send the clip's measuring task once the current transaction commits."""
    send_on_commit(MEASURE_CLIP, clip_id)


def outdated() -> QuerySet[Clip]:
    return Clip.objects.filter(measurements_version__lt=MEASUREMENTS_VERSION).exclude(original="")


def send_outdated(limit: int = RECOMPUTE_BATCH) -> dict[str, int]:
    """Send the measuring task for up to `limit` clips measured by an older version (oldest
    clips first). Returns how many were sent and how many are still outdated (progress)."""
    # A clip stored moments ago has its own message on the way: leave it to that one.
    settled = timezone.now() - timedelta(seconds=settings.MEASURE_RECOMPUTE_INTERVAL_S)
    ids = list(outdated().filter(created_at__lt=settled).order_by("pk").values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        for clip_id in ids:
            request_measurement(clip_id)
    return {"sent": len(ids), "outdated": outdated().count()}


def neural_metrics(clip: Clip) -> FrameMetrics | None:
    """The optional neural measurements of this clip's frames, None when none is configured."""
    if not settings.CLIP_MODEL_PATH:
        return None
    try:
        aligner = load_text_alignment(settings.CLIP_MODEL_PATH)
    except NeuralMetricUnavailable as exc:
        log.warning("clip %s: %s not measured: %s", clip.public_id, TEXT_ALIGNMENT_KEY, exc)
        return lambda frames: {TEXT_ALIGNMENT_KEY: None}
    prompt = clip.job.prompt.text

    def align(frames: np.ndarray) -> dict[str, float | None]:
        try:
            return {TEXT_ALIGNMENT_KEY: aligner(frames, prompt)}
        except NeuralMetricUnavailable as exc:
            log.warning("clip %s: %s not measured: %s", clip.public_id, TEXT_ALIGNMENT_KEY, exc)
            return {TEXT_ALIGNMENT_KEY: None}

    return align


def measure_stored_clip(clip_id: int) -> dict[str, float | None] | None:
    """Task body: measure the clip's original (what the vendor delivered, at its own size and
    frame rate) and store the result. None when there is nothing to do (gone, or measured by
    the current version already)."""
    clip = (
        Clip.objects.filter(pk=clip_id, measurements_version__lt=MEASUREMENTS_VERSION)
        .select_related("job__prompt")
        .first()
    )
    if clip is None or not clip.original.name:
        return None
    tools = media_tools()
    try:
        with scratch_dir("measure-") as workdir:
            source = local_copy(name_of(clip.original), workdir)
            info = media.probe(source, tools)
            values = measure_clip(source, info, tools, extra=neural_metrics(clip))
    except (media.InvalidVideo, media.FFmpegFailed, OSError) as exc:
        # Recorded, not fatal: the clip stays playable and votable without its measurements.
        log.warning("clip %s: could not be measured: %s", clip.public_id, exc)
        values = dict.fromkeys(METRIC_KEYS)
    Clip.objects.filter(pk=clip.pk, measurements_version__lt=MEASUREMENTS_VERSION).update(
        measurements=values, measurements_version=MEASUREMENTS_VERSION
    )
    return values
