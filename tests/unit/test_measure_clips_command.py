"""`manage.py measure_clips`: the outdated clips measured here with progress, or sent to the media
queue in a bounded batch; a clip whose original does not decode is recorded, not fatal."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from webapp.catalog.models import VideoModel
from webapp.catalog.services import load_catalog
from webapp.studio.models import Clip, GenerationJob, JobState, Prompt
from webapp.studio.services import measurements
from workers.media.measure import MEASUREMENTS_VERSION, METRIC_KEYS

pytestmark = pytest.mark.django_db


def stored_clip(media_root, name: str, *, playable: bool = True) -> Clip:
    path = media_root / "originals" / f"{name}.mp4"
    path.parent.mkdir(exist_ok=True)
    if playable:
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=160x90:rate=12:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(path)],
            check=True, timeout=60,
        )  # fmt: skip
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 300)
    prompt = Prompt.objects.create(text=name, seed=1, duration_s=1, aspect_ratio="16:9")
    job = GenerationJob.objects.create(
        prompt=prompt, model=VideoModel.objects.get(slug="demo-aurora"), state=JobState.SUCCEEDED
    )
    clip = Clip.objects.create(
        job=job, original=f"originals/{name}.mp4", web="w.mp4", poster="p.jpg", sha256_original="0" * 64,
        sha256_web="0" * 64, duration_s=1, width=160, height=90, fps=12, codec="h264", bytes=1, original_bytes=1,
    )  # fmt: skip
    return clip


def test_measure_here_reports_progress_and_records_a_failure(media_root):
    load_catalog()
    good, bad = stored_clip(media_root, "good"), stored_clip(media_root, "bad", playable=False)
    out = StringIO()
    call_command("measure_clips", "--here", stdout=out)
    assert out.getvalue().splitlines() == [
        f"[1/2] clip {good.pk}: measured",
        f"[2/2] clip {bad.pk}: failed",
        "0 clips still outdated",
    ]
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.measurements_version == bad.measurements_version == MEASUREMENTS_VERSION
    assert good.measurements["motion_mean"] > 0 and bad.measurements == dict.fromkeys(METRIC_KEYS)
    assert measurements.measure_stored_clip(good.pk) is None  # up to date: nothing to do


def test_sending_is_bounded_and_leaves_fresh_clips_to_their_own_message(media_root, monkeypatch):
    load_catalog()
    clips = [stored_clip(media_root, f"c{i}", playable=False) for i in range(3)]
    sent = []
    monkeypatch.setattr(measurements, "request_measurement", sent.append)
    assert measurements.send_outdated(limit=2) == {"sent": 0, "outdated": 3}  # all stored just now
    Clip.objects.update(created_at=clips[0].created_at - timedelta(hours=1))
    out = StringIO()
    call_command("measure_clips", "--limit", "2", stdout=out)
    assert sent == [clips[0].pk, clips[1].pk]
    assert out.getvalue().strip() == "sent 2 clips to the media queue; 3 still outdated"
    with pytest.raises(CommandError, match="at least 1"):
        call_command("measure_clips", "--limit", "0")
