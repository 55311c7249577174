"""Per-clip measurements (workers/media/measure.py) on synthetic clips made with ffmpeg's lavfi
sources, whose true properties are known: a still picture, a moving test pattern, a black
clip, a hard cut, a grey ramp. No Django, no database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.pictures import natural_picture
from workers import media
from workers.backends.base import GenerationRequest
from workers.backends.demo import ProceduralDemoBackend
from workers.media import measure

CATALOG_JSON = Path(__file__).resolve().parents[2] / "webapp/catalog/data/catalog.json"

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)",
)


def encode(dest: Path, graph: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph,
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(dest)],
        check=True, timeout=60,
    )  # fmt: skip
    return dest


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict[str, float | None]]:
    d = tmp_path_factory.mktemp("measure")
    size = "size=320x180:rate=24"
    clips = {
        # One frame of the test pattern held for 3 s: nothing moves.
        "still": encode(d / "still.mp4", f"testsrc2={size}:duration=0.05,loop=loop=-1:size=1,trim=duration=3"),
        # The pattern scrolls 4 px a frame (180 px short side: analysed at its own size, never upscaled).
        "moving": encode(
            d / "moving.mp4", "testsrc2=size=640x180:rate=24:duration=3,crop=320:180:x='mod(4*n\\,320)':y=0"
        ),
        "black": encode(d / "black.mp4", f"color=black:{size}:duration=3"),
        "cut": encode(
            d / "cut.mp4",
            f"testsrc2={size}:duration=1.5[a];color=0x2060c0:{size}:duration=1.5[b];[a][b]concat=n=2:v=1:a=0",
        ),
        "grey": encode(d / "grey.mp4", f"color=0x808080:{size}:duration=2"),
    }
    return {name: measure.measure_clip(path, media.probe(path)) for name, path in clips.items()}


def test_every_metric_is_reported_under_its_agreed_key(measured):
    for values in measured.values():
        assert tuple(values) == measure.METRIC_KEYS


def test_a_still_clip_does_not_flicker_move_or_change_and_is_frozen(measured):
    still = measured["still"]
    assert still["flicker"] > 0.999
    assert still["motion_mean"] < 0.05
    assert still["dynamic_degree"] == 0.0
    assert still["frozen_share"] > 0.8
    assert still["scene_cuts"] == 0
    assert still["ti_mean"] < 0.5
    assert still["black_share"] == 0.0


def test_a_moving_pattern_has_motion_near_its_true_speed(measured):
    moving, still = measured["moving"], measured["still"]
    # 4 px per frame at 320x180; the analysis keeps 320x180 (short side 180 < 256: never upscaled).
    assert 2.5 < moving["motion_mean"] < 5.0
    assert moving["flicker"] < still["flicker"]
    assert moving["frozen_share"] == 0.0
    assert moving["ti_mean"] > still["ti_mean"] + 5
    # Linear motion is what the proxy predicts exactly: its error stays small.
    assert moving["smoothness_error"] < 0.05


def test_a_black_clip_is_all_black_and_dark(measured):
    black = measured["black"]
    assert black["black_share"] == pytest.approx(1.0, abs=0.02)
    assert black["exposure_mean"] < 0.08
    assert black["clipped_share"] > 0.99
    assert black["colourfulness"] < 1.0


def test_a_hard_cut_is_counted_as_a_scene_cut(measured):
    assert measured["cut"]["scene_cuts"] >= 1
    assert measured["still"]["scene_cuts"] == 0


def test_flat_grey_is_neither_sharp_nor_colourful_nor_clipped(measured):
    grey, pattern = measured["grey"], measured["still"]
    assert grey["sharpness"] < 1.0 < pattern["sharpness"]
    assert grey["colourfulness"] < 1.0 < pattern["colourfulness"]
    assert grey["clipped_share"] == 0.0
    assert grey["exposure_mean"] == pytest.approx(0x80 / 255, abs=0.03)
    assert grey["brisque"] is None  # no contrast to normalise
    assert pattern["brisque"] is not None


def test_a_blurred_clip_has_a_worse_brisque_than_the_sharp_one(tmp_path):
    picture = tmp_path / "natural.png"
    cv2.imwrite(str(picture), natural_picture(360, 640))

    def clip(name, *vf):
        path = tmp_path / name
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-i", str(picture),
             "-t", "1", "-r", "12", *vf, "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", str(path)],
            check=True, timeout=60,
        )  # fmt: skip
        return measure.measure_clip(path, media.probe(path))["brisque"]

    sharp, blurred = clip("sharp.mp4"), clip("blurred.mp4", "-vf", "gblur=sigma=3")
    assert sharp + 10 < blurred


def test_vbench_dynamic_degree_needs_fast_motion_on_enough_pairs():
    rng = np.random.default_rng(7)
    base = (rng.random((256, 512)) * 255).astype(np.uint8)
    base = np.ascontiguousarray(np.repeat(np.repeat(base[::8, ::8], 8, 0), 8, 1))  # blocky, trackable
    slow = np.stack([np.roll(base, i, axis=1) for i in range(48)])  # 1 px/frame: 3 px per 1/8 s at 24 fps
    fast = np.stack([np.roll(base, 4 * i, axis=1) for i in range(48)])  # 12 px per sampled pair > 6 px
    assert measure.dynamic_degree(slow, fps=24) == 0.0
    assert measure.dynamic_degree(fast, fps=24) == 1.0


def test_colourfulness_follows_hasler_and_suesstrunk():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    # rg = 255, yb = 127.5, no spread: 0.3 * hypot(255, 127.5)
    assert measure.colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5), rel=1e-4)


def test_analysis_size_keeps_aspect_and_never_upscales():
    assert measure.analysis_size(1280, 720) == measure.AnalysisSize(456, 256)
    assert measure.analysis_size(720, 1280) == measure.AnalysisSize(256, 456)
    assert measure.analysis_size(320, 180) == measure.AnalysisSize(320, 180)


def test_a_file_that_is_not_a_video_raises_a_media_error(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 400)
    info = media.VideoInfo(
        duration_s=1.0, width=320, height=180, fps=24.0, codec="h264", pix_fmt="yuv420p",
        bytes=412, container="mov,mp4,m4a,3gp,3g2,mj2", has_audio=False, frame_count=24,
    )  # fmt: skip
    with pytest.raises(media.MediaError):
        measure.measure_clip(bogus, info)


def test_si_and_ti_agree_with_ffmpegs_siti_filter(tmp_path):
    # At 320x180 the analysis size is the clip's own, so both see the same luma.
    path = encode(tmp_path / "pattern.mp4", "testsrc2=size=320x180:rate=24:duration=1")
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-vf", "siti=print_summary=1", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stderr  # fmt: skip
    reference = dict(re.findall(r"(Spatial|Temporal) Information:\s*Average:\s*([0-9.]+)", log))
    ours = measure.measure_clip(path, media.probe(path))
    assert ours["si_mean"] == pytest.approx(float(reference["Spatial"]), rel=0.03)
    assert ours["ti_mean"] == pytest.approx(float(reference["Temporal"]), rel=0.05)


def test_the_demo_models_declared_flicker_and_roughness_come_out_in_order(tmp_path):
    # The three demo presets (webapp/catalog/data/catalog.json) declare more flicker and less
    # smooth motion from Aurora to Lumen to Pixel: the measurements must rank them the same way.
    presets = {
        m["slug"]: m["backend_params"]
        for m in json.loads(CATALOG_JSON.read_text(encoding="utf-8"))["models"]
        if m.get("backend_key") == "demo"
    }
    results = {}
    for slug in ("demo-aurora", "demo-lumen", "demo-pixel"):
        request = GenerationRequest(
            prompt="a red ball bouncing over ocean waves", duration_s=2, width=320, height=180,
            aspect_ratio="16:9", seed=7, params=presets[slug],
        )  # fmt: skip
        workdir = tmp_path / slug
        workdir.mkdir()
        made = ProceduralDemoBackend().generate(
            request, workdir=workdir, resume_vendor_job_id=None, on_submitted=lambda _id: None
        )
        results[slug] = measure.measure_clip(made.video_path, media.probe(made.video_path))
    aurora, lumen, pixel = (results[s] for s in ("demo-aurora", "demo-lumen", "demo-pixel"))
    assert aurora["flicker"] > lumen["flicker"] > pixel["flicker"]
    assert aurora["smoothness_error"] < lumen["smoothness_error"] < pixel["smoothness_error"]


def test_a_clip_tagged_as_rotated_is_measured_as_stored(tmp_path):
    # Turned upright, the decoded frames would be 180x320 and squeezed into the probed 320x180,
    # changing sharpness, SI and motion. ffmpeg 5.1 does not turn frames upright inside
    # -filter_complex; -noautorotate keeps it so on versions that do.
    def make(name, *extra):
        path = tmp_path / name
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=320x180:rate=24:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", *extra, str(path)],
            check=True, timeout=60,
        )  # fmt: skip
        return measure.measure_clip(path, media.probe(path))

    upright, rotated = make("upright.mp4"), make("rotated.mp4", "-metadata:s:v:0", "rotate=90")
    for key in ("sharpness", "si_mean", "motion_mean", "flicker"):
        assert rotated[key] == pytest.approx(upright[key], rel=0.01), key
