"""The side-by-side export: the ffmpeg function with real ffmpeg (output probed), and the
service's claim / render / cache rules."""

import dataclasses
import json
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import record_sent
from webapp.gallery.models import ExportState, SideBySideExport
from webapp.gallery.services import exports
from webapp.studio.models import GenerationJob
from workers import media


def clip(path, size, rate, duration):
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={rate}:duration={duration}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def ffprobe(path) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,avg_frame_rate,pix_fmt:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    data = json.loads(out)
    return {**data["streams"][0], "duration": float(data["format"]["duration"])}


LAYOUT = media.SideBySideLayout(
    tile_width=320, tile_height=180, fps=24, caption_height=60, label_size=16, caption_size=14
)


@pytest.mark.parametrize(
    "sizes, expected",
    [
        ([("160x90", 24, 2), ("90x160", 12, 1.5)], (640, 240)),  # hstack
        ([("160x90", 24, 2), ("200x200", 8, 2), ("320x180", 15, 1)], (640, 420)),  # xstack 2x2, one empty
        ([("160x90", 24, 1), ("200x200", 8, 2), ("320x180", 15, 1), ("64x64", 30, 2)], (640, 420)),
    ],
)
def test_clips_are_normalized_stacked_and_encoded(tmp_path, sizes, expected):
    sources = [clip(tmp_path / f"in{i}.mp4", *spec) for i, spec in enumerate(sizes)]
    progress = []
    info = media.make_side_by_side(
        sources,
        [f"Model {i}" for i in range(len(sources))],
        "a prompt",
        tmp_path / "out.mp4",
        layout=LAYOUT,
        on_progress=progress.append,
    )
    probed = ffprobe(tmp_path / "out.mp4")
    assert (probed["width"], probed["height"]) == expected == LAYOUT.output_size(len(sources))
    assert (probed["codec_name"], probed["pix_fmt"]) == ("h264", "yuv420p")
    assert probed["avg_frame_rate"] == "24/1"
    assert abs(probed["duration"] - max(s[2] for s in sizes)) < 0.1  # held to the longest clip
    assert (info.width, info.height) == expected
    assert progress[-1] == 1.0 and progress == sorted(progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.mp4", *(s.name for s in sources)])


def test_untrusted_text_is_drawn_literally_not_parsed(tmp_path):
    sources = [clip(tmp_path / f"in{i}.mp4", "160x90", 24, 1) for i in range(2)]
    hostile = "it's: a [test] %{localtime} \\ ; ,drawtext=text=x:fontfile=/etc/passwd '\" \n%{eif:1/0:d}"
    media.make_side_by_side(sources, [hostile, "%{pts}"], hostile * 3, tmp_path / "out.mp4", layout=LAYOUT)
    assert ffprobe(tmp_path / "out.mp4")["width"] == 640


def test_paths_with_filter_graph_syntax_work(tmp_path):
    # The drawtext textfile= paths live beside the output and fontfile= is the operator's: both
    # sit inside the filter graph, so every character the graph or option parser treats
    # specially must be escaped.
    weird = tmp_path / "it's: a [weird], dir; ok "
    weird.mkdir()
    font = weird / "font: 'x' [1], ;.ttf"
    shutil.copy(LAYOUT.font_file, font)
    sources = [clip(weird / f"in {i}; [x].mp4", "160x90", 24, 1) for i in range(2)]
    progress = []
    layout = dataclasses.replace(LAYOUT, font_file=str(font))
    info = media.make_side_by_side(
        sources, ["a", "b"], "c", weird / "out, 'final'.mp4", layout=layout, on_progress=progress.append
    )
    assert (info.width, info.height) == LAYOUT.output_size(2) and progress[-1] == 1.0
    assert ffprobe(weird / "out, 'final'.mp4")["width"] == 640
    assert sorted(p.name for p in weird.iterdir()) == sorted(
        [font.name, "out, 'final'.mp4", *(s.name for s in sources)]
    )


def test_argv_keeps_text_out_of_the_filter_graph(tmp_path):
    argv = media.side_by_side_argv(
        [tmp_path / "a.mp4", tmp_path / "b.mp4"],
        [tmp_path / "l0", tmp_path / "l1"],
        tmp_path / "cap",
        tmp_path / "out.mp4",
        durations=[1, 2],
        layout=LAYOUT,
    )
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.count("textfile=") == 3 and graph.count("expansion=none") == 3
    assert not re.search(r"[:=]text=", graph)
    assert "hstack" in graph and "tpad" in graph
    assert all(not a.startswith("/") for a in argv[1:] if "a.mp4" in a)  # inputs as file: URLs


def test_failure_leaves_nothing_behind(tmp_path):
    good = clip(tmp_path / "good.mp4", "160x90", 24, 1)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(media.InvalidVideo):
        media.make_side_by_side([good, bad], ["a", "b"], "c", tmp_path / "out.mp4", layout=LAYOUT)
    with pytest.raises(ValueError):
        media.make_side_by_side([good], ["a"], "c", tmp_path / "out.mp4", layout=LAYOUT)
    missing_font = media.SideBySideLayout(font_file=str(tmp_path / "nope.ttf"))
    with pytest.raises(media.FFmpegUnavailable, match="EXPORT_FONT_FILE"):
        media.make_side_by_side([good, good], ["a", "b"], "c", tmp_path / "out.mp4", layout=missing_font)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4", "good.mp4"]


def test_a_timeout_stops_ffmpeg_and_cleans_up(tmp_path):
    sources = [clip(tmp_path / f"in{i}.mp4", "160x90", 24, 2) for i in range(2)]
    with pytest.raises(media.FFmpegFailed) as err:
        media.make_side_by_side(
            sources, ["a", "b"], "c", tmp_path / "out.mp4", layout=LAYOUT, tools=media.Tools(transcode_timeout_s=0.01)
        )
    assert err.value.code == "ffmpeg_timeout"
    assert not list(tmp_path.glob(".out.mp4*"))


# --- the service -------------------------------------------------------------------------------


@pytest.fixture
def export_of(make_clips, demo_models, settings):
    settings.EXPORT_TILE_HEIGHT = 90

    def make(models=2):
        prompt = make_clips(prompts=1)[0]
        jobs = list(
            GenerationJob.objects.filter(prompt=prompt).select_related("clip", "model").order_by("model__slug")[:models]
        )
        export, created = exports.request_export(prompt, jobs)
        assert created
        return export, prompt, jobs

    return make


@pytest.mark.django_db(transaction=True)
def test_render_step_stores_the_file_under_an_opaque_name(export_of, media_root, client):
    export, prompt, jobs = export_of(models=3)
    exports.render_step(export.pk, owner="w1")
    export.refresh_from_db()
    assert export.state == ExportState.SUCCEEDED and export.progress == 1.0 and export.attempts == 1
    assert export.file.name.startswith("exports/") and prompt.public_id not in export.file.name
    assert (export.width, export.height) == (2 * 160, 2 * 90 + 96)
    probed = ffprobe(media_root / export.file.name)
    assert (probed["width"], probed["height"], probed["codec_name"]) == (320, 276, "h264")
    # Served with Range through the media view's machinery.
    response = client.get(f"/exports/{export.public_id}/download", HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206 and len(b"".join(response.streaming_content)) == 100
    assert "attachment" in response["Content-Disposition"]
    # A duplicated message does nothing: the export is not claimable again.
    exports.render_step(export.pk, owner="w2")
    export.refresh_from_db()
    assert export.attempts == 1 and len(list((media_root / "exports").iterdir())) == 1
    # Asking again for the same clips returns the finished export.
    again, created = exports.request_export(prompt, list(reversed(jobs)))
    assert not created and again.pk == export.pk and again.state == ExportState.SUCCEEDED


@pytest.mark.django_db
def test_an_export_takes_only_the_prompts_own_clips(make_clips, demo_models):
    first, second = make_clips(prompts=2)
    mine = list(GenerationJob.objects.filter(prompt=first).select_related("clip")[:1])
    theirs = list(GenerationJob.objects.filter(prompt=second).select_related("clip")[:1])
    with pytest.raises(ValueError, match="not results of prompt"):
        exports.request_export(first, mine + theirs)
    assert not SideBySideExport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_only_one_claim_wins(export_of):
    export, *_ = export_of()
    assert exports.claim(export.pk, "w1") is not None
    assert exports.claim(export.pk, "w2") is None


@pytest.mark.django_db(transaction=True)
def test_a_missing_clip_fails_the_export_and_a_new_request_retries(export_of, media_root):
    export, prompt, jobs = export_of()
    (media_root / jobs[1].clip.web.name).write_bytes(b"broken")
    exports.render_step(export.pk, owner="w1")
    export.refresh_from_db()
    assert export.state == ExportState.FAILED and export.error_code == "not_a_video" and not export.file
    assert not (media_root / "exports").exists() or not list((media_root / "exports").iterdir())
    again, created = exports.request_export(prompt, jobs)
    assert not created and again.state == ExportState.QUEUED and again.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_losing_the_lease_discards_the_rendered_file(export_of, media_root, monkeypatch):
    export, *_ = export_of()
    real = media.make_side_by_side

    def slow_then_stolen(*args, **kwargs):
        info = real(*args, **kwargs)
        SideBySideExport.objects.filter(pk=export.pk).update(lease_owner="someone else")
        return info

    monkeypatch.setattr(media, "make_side_by_side", slow_then_stolen)
    exports.render_step(export.pk, owner="w1")
    export.refresh_from_db()
    assert export.state == ExportState.RUNNING and not export.file
    assert not list((media_root / "exports").iterdir())


@pytest.mark.django_db(transaction=True)
def test_the_reaper_recovers_the_export_of_a_killed_worker(export_of, media_root, monkeypatch):
    """Issue 16 D4: without a click, once the dead worker's lease runs out."""
    export, *_ = export_of()
    assert exports.claim(export.pk, "killed pid 1") is not None
    SideBySideExport.objects.filter(pk=export.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    sent = []
    record_sent(monkeypatch, lambda name, args, countdown: sent.append((name, args)))
    assert exports.reap_stale_exports() == {"resent": 1, "failed": 0}
    assert exports.reap_stale_exports() == {"resent": 0, "failed": 0}  # sent once, not every run
    assert sent == [(exports.RENDER.name, [export.pk])]
    exports.render_step(export.pk, owner="rescuer pid 2")
    export.refresh_from_db()
    assert export.state == ExportState.SUCCEEDED and export.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_the_export_reaper_gives_up_after_the_attempts(export_of, settings):
    export, *_ = export_of()
    SideBySideExport.objects.filter(pk=export.pk).update(
        state=ExportState.RUNNING, attempts=settings.JOB_MAX_ATTEMPTS, lease_expires_at=timezone.now()
    )
    assert exports.reap_stale_exports() == {"resent": 0, "failed": 1}
    export.refresh_from_db()
    assert (export.state, export.error_code) == (ExportState.FAILED, "attempts_exhausted")
