"""Per-clip measurements through the real stack: a stored clip is measured by a real worker on
the media queue; a clip measured by an older version (or whose message was lost) is measured
again by the background recompute; a clip whose original cannot be decoded gets its failure
recorded (every metric None) and stays a clip."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from webapp.catalog.services import load_catalog
from webapp.studio.models import Clip
from webapp.studio.services import measurements
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS

from .conftest import wait_for

pytestmark = pytest.mark.integration


def measured(clip_id: int) -> Clip | None:
    clip = Clip.objects.get(pk=clip_id)
    return clip if clip.measurements_version == MEASUREMENTS_VERSION else None


def test_a_stored_clip_is_measured_on_the_media_queue_and_outdated_ones_again(client, celery_procs, settings):
    load_catalog()
    worker = celery_procs.worker("itest-measure@localhost")
    created = client.post(
        "/api/v1/prompts",
        data=json.dumps({"prompt": "waves rolling onto a beach", "models": ["demo-aurora"], "duration_s": 2}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    clip_id = wait_for(
        lambda: Clip.objects.values_list("pk", flat=True).first(), timeout=60, what="the clip", logs=worker.log
    )
    clip = wait_for(lambda: measured(clip_id), timeout=60, what="the clip's measurements", logs=worker.log)
    first = clip.measurements
    assert set(first) == set(METRIC_KEYS)  # (jsonb keeps its own key order)
    assert all(isinstance(first[k], float) for k in METRIC_KEYS), first
    assert 0.0 < first["flicker"] <= 1.0 and first["motion_mean"] > 0.0 and first["black_share"] == 0.0

    # A version bump (or a lost message) leaves clips behind: the recompute sends them again,
    # except clips stored moments ago, whose own message is still on the way.
    Clip.objects.filter(pk=clip_id).update(measurements={}, measurements_version=0)
    assert measurements.send_outdated() == {"sent": 0, "outdated": 1}
    old = clip.created_at - timedelta(seconds=settings.MEASURE_RECOMPUTE_INTERVAL_S + 1)
    Clip.objects.filter(pk=clip_id).update(created_at=old)
    assert measurements.send_outdated() == {"sent": 1, "outdated": 1}
    again = wait_for(lambda: measured(clip_id), timeout=60, what="the clip measured again", logs=worker.log)
    assert again.measurements == pytest.approx(first)  # the same file, the same numbers

    # An original that no longer decodes: the failure is recorded, the clip stays.
    (settings.MEDIA_ROOT / clip.original.name).write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 512)
    Clip.objects.filter(pk=clip_id).update(measurements={}, measurements_version=0)
    assert measurements.send_outdated() == {"sent": 1, "outdated": 1}
    failed = wait_for(lambda: measured(clip_id), timeout=60, what="the failure recorded", logs=worker.log)
    assert failed.measurements == dict.fromkeys(METRIC_KEYS)
    assert measurements.send_outdated() == {"sent": 0, "outdated": 0}
