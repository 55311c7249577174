"""The procedural demo backend (workers/backends/demo/): pure Python + ffmpeg, no Django.

Run with `pytest tests/unit/test_demo_backend.py -p no:django`; nothing here needs settings
or a database (the demo presets are read straight from the catalog's JSON file). Clips are
small and short so the whole file runs in a few seconds.

Over ~400 lines on purpose: one backend's whole contract (determinism, output format, how the
prompt steers the picture, quality knobs, resume, errors, timeouts), each part rendered with
real ffmpeg by the helpers at the top.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from workers.backends.base import GenerationRequest, GenerationTimeout, PermanentError
from workers.backends.demo import ProceduralDemoBackend, parse_params, vendor_job_id_for
from workers.backends.registry import backend_class

CATALOG_JSON = Path(__file__).resolve().parents[2] / "webapp/catalog/data/catalog.json"


def demo_presets() -> dict[str, dict]:
    """Catalog slug -> backend_params for the models whose backend_key is "demo"."""
    models = json.loads(CATALOG_JSON.read_text(encoding="utf-8"))["models"]
    return {m["slug"]: m["backend_params"] for m in models if m.get("backend_key") == "demo"}


DEMO_PRESETS = demo_presets()

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed",
)

W, H = 256, 144
BEST = dict(DEMO_PRESETS["demo-aurora"])


def make_request(
    prompt="a red ball bouncing", *, seed=7, params=None, width=W, height=H, duration_s=2.0, negative_prompt=""
):
    return GenerationRequest(
        prompt=prompt,
        duration_s=duration_s,
        width=width,
        height=height,
        aspect_ratio="16:9",
        seed=seed,
        negative_prompt=negative_prompt,
        params=BEST if params is None else params,
    )


def generate(workdir: Path, request: GenerationRequest, *, resume=None, submitted=None):
    calls = [] if submitted is None else submitted
    return ProceduralDemoBackend().generate(
        request, workdir=workdir, resume_vendor_job_id=resume, on_submitted=calls.append
    )


def probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return json.loads(out)


def decode(path: Path, width: int = W, height: int = H) -> np.ndarray:
    """All frames as an (n, h, w, 3) float array."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3).astype(np.float64)


def luma(frames: np.ndarray) -> np.ndarray:
    return frames @ np.array([0.299, 0.587, 0.114])


def render_frames(tmp_path: Path, name: str, request: GenerationRequest) -> np.ndarray:
    result = generate(tmp_path / name, request)
    return decode(result.video_path, request.width, request.height)


# ---------------------------------------------------------------------------- determinism


@needs_ffmpeg
def test_same_prompt_seed_params_give_byte_identical_files(tmp_path):
    a = generate(tmp_path / "a", make_request())
    b = generate(tmp_path / "b", make_request())
    assert a.vendor_job_id == b.vendor_job_id
    assert a.video_path.read_bytes() == b.video_path.read_bytes()


@needs_ffmpeg
@pytest.mark.parametrize("slug", sorted(DEMO_PRESETS))
def test_every_preset_is_deterministic(tmp_path, slug):
    req = make_request("city at night with rain", params=DEMO_PRESETS[slug], duration_s=1.0)
    a = generate(tmp_path / "a", req)
    b = generate(tmp_path / "b", req)
    assert a.video_path.read_bytes() == b.video_path.read_bytes()


@needs_ffmpeg
def test_different_prompt_gives_different_bytes(tmp_path):
    a = generate(tmp_path / "a", make_request("a red ball bouncing"))
    b = generate(tmp_path / "b", make_request("snow falling on a quiet city"))
    assert a.vendor_job_id != b.vendor_job_id
    assert a.video_path.read_bytes() != b.video_path.read_bytes()


@needs_ffmpeg
def test_different_seed_gives_a_visibly_different_variation(tmp_path):
    a = render_frames(tmp_path, "a", make_request("abstract shapes", seed=1))
    b = render_frames(tmp_path, "b", make_request("abstract shapes", seed=2))
    assert a.shape == b.shape
    # Not just different bytes: the pictures differ (layout, phases).
    assert np.abs(a - b).mean() > 2.0


@needs_ffmpeg
def test_catalog_keys_the_backend_does_not_use_change_nothing(tmp_path):
    """A model's name or vendor model id in its params must not leak into the output."""
    a = generate(tmp_path / "a", make_request(params=BEST))
    b = generate(tmp_path / "b", make_request(params={**BEST, "vendor_model_id": "secret-x", "display_name": "Aurora"}))
    assert a.vendor_job_id == b.vendor_job_id
    assert a.video_path.read_bytes() == b.video_path.read_bytes()


# ---------------------------------------------------------------------------- the file


@needs_ffmpeg
@pytest.mark.parametrize("slug", sorted(DEMO_PRESETS))
@pytest.mark.parametrize("size", [(256, 144), (144, 256), (320, 320)])
def test_output_is_h264_yuv420p_at_requested_size_fps_and_duration(tmp_path, slug, size):
    params = DEMO_PRESETS[slug]
    width, height = size
    result = generate(tmp_path, make_request(params=params, width=width, height=height, duration_s=1.5))
    info = probe(result.video_path)
    (stream,) = [s for s in info["streams"] if s["codec_type"] == "video"]
    sound = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(sound) == (1 if params.get("sound") else 0)  # a sound track only where the catalog asks for one
    assert stream["codec_name"] == "h264"
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (width, height)
    assert stream["r_frame_rate"] == f"{params['fps']}/1"
    assert abs(float(info["format"]["duration"]) - 1.5) <= 1.0 / params["fps"] + 0.05
    assert result.vendor_metadata["frames"] == round(1.5 * params["fps"])
    assert result.video_path.parent == tmp_path
    # Only the final file is left behind: the temp name was renamed, not copied.
    assert [p.name for p in tmp_path.iterdir()] == [result.video_path.name]


@needs_ffmpeg
def test_result_fields(tmp_path):
    result = generate(tmp_path, make_request(seed=42))
    assert result.cost_usd == 0.0
    assert result.video_path.exists() and result.video_path.suffix == ".mp4"
    assert re.fullmatch(r"demo-[0-9a-f]{16}", result.vendor_job_id)
    meta = result.vendor_metadata
    assert meta["renderer"] == "procedural-demo"
    assert (meta["fps"], meta["frames"], meta["width"], meta["height"], meta["seed"]) == (24, 48, W, H, 42)
    json.dumps(dict(meta))  # provenance must be JSON-serialisable


def test_registry_resolves_demo_backend():
    cls = backend_class("demo")
    assert cls is ProceduralDemoBackend
    assert cls.key == "demo"
    assert "not a neural" in (cls.__doc__ or "").lower()


# ---------------------------------------------------------------------------- prompts steer


@needs_ffmpeg
def test_colour_words_steer_the_palette(tmp_path):
    red = render_frames(tmp_path, "red", make_request("a red balloon floating"))
    blue = render_frames(tmp_path, "blue", make_request("a blue balloon floating"))
    green = render_frames(tmp_path, "green", make_request("a green balloon floating"))

    def mean_rgb(frames):
        return frames.reshape(-1, 3).mean(axis=0)

    r, b, g = mean_rgb(red), mean_rgb(blue), mean_rgb(green)
    assert r[0] - r[2] > 40  # red frames: much more red than blue
    assert b[2] - b[0] > 40  # blue frames: much more blue than red
    assert r[0] - r[2] > (b[0] - b[2]) + 80
    assert g[1] > g[0] and g[1] > g[2]


@needs_ffmpeg
def test_speed_words_steer_motion(tmp_path):
    def motion(frames):
        return np.abs(np.diff(luma(frames), axis=0)).mean()

    def total_motion(word):
        # A palette word keeps the colours fixed; two seeds average out the layout.
        return sum(
            motion(render_frames(tmp_path, f"{word}{seed}", make_request(f"{word} spinning neon shapes", seed=seed)))
            for seed in (1, 2)
        )

    assert total_motion("fast") > 2.5 * total_motion("slow")


@needs_ffmpeg
def test_content_words_change_the_picture(tmp_path):
    city = render_frames(tmp_path, "city", make_request("city at night"))
    sea = render_frames(tmp_path, "sea", make_request("ocean at night"))
    # Same palette word, different content: the lower half (skyline vs waves) differs a lot.
    assert np.abs(city[:, H // 2 :] - sea[:, H // 2 :]).mean() > 10


# ---------------------------------------------------------------------------- models differ


def global_flicker(frames: np.ndarray) -> float:
    """Mean absolute frame-to-frame change of the whole frame's mean luminance."""
    return float(np.abs(np.diff(luma(frames).mean(axis=(1, 2)))).mean())


def sharpness(frames: np.ndarray) -> float:
    """Variance of the Laplacian of luminance, averaged over a few frames."""
    y = luma(frames[:: max(1, len(frames) // 4)])
    lap = -4 * y[:, 1:-1, 1:-1] + y[:, :-2, 1:-1] + y[:, 2:, 1:-1] + y[:, 1:-1, :-2] + y[:, 1:-1, 2:]
    return float(lap.var(axis=(1, 2)).mean())


@needs_ffmpeg
def test_flicker_param_makes_global_brightness_jump(tmp_path):
    prompt = "a golden sun over the sea"
    smooth = render_frames(tmp_path, "smooth", make_request(prompt))
    flickery = render_frames(tmp_path, "flicker", make_request(prompt, params={**BEST, "flicker": 0.4}))
    assert global_flicker(flickery) > 5 * global_flicker(smooth)
    assert global_flicker(flickery) > 5.0


@needs_ffmpeg
def test_blur_param_reduces_sharpness(tmp_path):
    prompt = "city at night"
    sharp = render_frames(tmp_path, "sharp", make_request(prompt))
    blurred = render_frames(tmp_path, "blurred", make_request(prompt, params={**BEST, "blur": 0.6}))
    assert sharpness(blurred) < 0.4 * sharpness(sharp)


@needs_ffmpeg
def test_render_scale_softens_output(tmp_path):
    prompt = "city at night"
    full = render_frames(tmp_path, "full", make_request(prompt))
    half = render_frames(tmp_path, "half", make_request(prompt, params={**BEST, "render_scale": 0.5}))
    assert full.shape == half.shape
    assert sharpness(half) < 0.7 * sharpness(full)


@needs_ffmpeg
def test_low_motion_smoothness_repeats_frames(tmp_path):
    prompt = "fast spinning shapes"
    smooth = render_frames(tmp_path, "smooth", make_request(prompt))
    jerky = render_frames(tmp_path, "jerky", make_request(prompt, params={**BEST, "motion_smoothness": 0.2}))

    def still_fraction(frames):
        return float((np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3)) < 0.5).mean())

    assert still_fraction(smooth) == 0.0
    assert still_fraction(jerky) > 0.2


@needs_ffmpeg
def test_presets_rank_best_to_worst(tmp_path):
    prompt = "a golden sun over the sea"
    frames = {
        slug: render_frames(tmp_path, slug, make_request(prompt, params=params))
        for slug, params in DEMO_PRESETS.items()
    }
    flick = {slug: global_flicker(f) for slug, f in frames.items()}
    assert flick["demo-aurora"] < flick["demo-lumen"] < flick["demo-pixel"]
    # Grain raises a Laplacian's variance, so compare sharpness with the grain switched off.
    sharp = {
        slug: sharpness(render_frames(tmp_path, f"{slug}-clean", make_request(prompt, params={**params, "noise": 0})))
        for slug, params in DEMO_PRESETS.items()
    }
    assert sharp["demo-aurora"] > sharp["demo-lumen"] > sharp["demo-pixel"]


# ---------------------------------------------------------------------------- submission


@needs_ffmpeg
def test_on_submitted_called_once_with_the_vendor_job_id(tmp_path):
    calls: list[str] = []
    result = generate(tmp_path, make_request(), submitted=calls)
    assert calls == [result.vendor_job_id]


@needs_ffmpeg
def test_resume_reuses_the_id_and_does_not_resubmit(tmp_path):
    first = generate(tmp_path / "a", make_request())
    calls: list[str] = []
    resumed = generate(tmp_path / "b", make_request(), resume=first.vendor_job_id, submitted=calls)
    assert calls == []
    assert resumed.vendor_job_id == first.vendor_job_id
    assert resumed.video_path.name == first.video_path.name
    assert resumed.video_path.read_bytes() == first.video_path.read_bytes()


@needs_ffmpeg
def test_latency_param_delays_the_result(tmp_path):
    calls: list[str] = []
    started = time.monotonic()
    generate(tmp_path, make_request(params={**BEST, "latency_s": 0.4}, duration_s=0.5), submitted=calls)
    assert time.monotonic() - started >= 0.4
    assert len(calls) == 1


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fps", "fast"),
        ("fps", 0),
        ("fps", 24.5),
        ("fps", True),
        ("fps", 500),
        ("render_scale", 0),
        ("render_scale", 1.5),
        ("motion_smoothness", -0.1),
        ("flicker", 1.5),
        ("blur", "lots"),
        ("noise", float("nan")),
        ("latency_s", -1),
        ("max_duration_s", 0),
        ("base_width", 513),
        ("base_height", 8),
        ("ffmpeg_binary", 42),
    ],
)
def test_invalid_params_raise_permanent_error_naming_the_param(tmp_path, name, value):
    calls: list[str] = []
    with pytest.raises(PermanentError) as exc:
        generate(tmp_path, make_request(params={**BEST, name: value}), submitted=calls)
    assert name in str(exc.value)
    assert calls == []


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"duration_s": 0}, "duration_s"),
        ({"duration_s": -2}, "duration_s"),
        ({"duration_s": 12.5}, "duration_s"),  # the presets' max_duration_s is 12
        ({"duration_s": float("inf")}, "duration_s"),
        ({"width": 255}, "width"),
        ({"height": 8}, "height"),
        ({"width": 3840}, "width"),
    ],
)
def test_bad_requests_raise_permanent_error(tmp_path, changes, needle):
    calls: list[str] = []
    kwargs = {"duration_s": 2.0, "width": W, "height": H, **changes}
    with pytest.raises(PermanentError) as exc:
        generate(tmp_path, make_request(**kwargs), submitted=calls)
    assert needle in str(exc.value)
    assert calls == []


def test_default_max_duration_is_20_seconds(tmp_path):
    with pytest.raises(PermanentError, match="duration_s"):
        generate(tmp_path, make_request(params={}, duration_s=20.5))


def test_missing_ffmpeg_is_a_permanent_error(tmp_path):
    calls: list[str] = []
    with pytest.raises(PermanentError) as exc:
        generate(tmp_path, make_request(params={**BEST, "ffmpeg_binary": "/nonexistent/ffmpeg"}), submitted=calls)
    assert exc.value.code == "ffmpeg_missing"
    assert "/nonexistent/ffmpeg" in str(exc.value)
    assert calls == []  # nothing was "submitted"


def test_missing_ffmpeg_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FFMPEG_BINARY", "/nonexistent/ffmpeg-env")
    with pytest.raises(PermanentError) as exc:
        generate(tmp_path, make_request())
    assert exc.value.code == "ffmpeg_missing"


@needs_ffmpeg
def test_encode_timeout_kills_ffmpeg_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(GenerationTimeout):
        generate(
            tmp_path, make_request(params={**BEST, "render_timeout_s": 0.001}, width=1280, height=720, duration_s=4)
        )
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- the sound track


def decoded_mono(path: Path) -> np.ndarray:
    """The clip's sound as mono float samples at 8 kHz (left + right: the sway cancels out)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "f32le", "-"],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return np.frombuffer(pcm, dtype="<f4")


def swell_hz(samples: np.ndarray, rate: int = 8000) -> float:
    """The strongest slow rhythm (0.2-5 Hz) of the track's loudness, from 50 ms RMS windows."""
    win = rate // 20
    rms = np.sqrt((samples[: len(samples) // win * win].reshape(-1, win) ** 2).mean(axis=1))
    spectrum = np.abs(np.fft.rfft(rms - rms.mean(), n=len(rms) * 8))
    freqs = np.fft.rfftfreq(len(rms) * 8, d=1 / 20)
    band = (freqs > 0.2) & (freqs < 5)
    return float(freqs[band][np.argmax(spectrum[band])])


@needs_ffmpeg
def test_a_model_with_sound_gets_a_track_that_follows_the_motion(tmp_path):
    params = {**BEST, "sound": 0.8}
    assert backend_class("demo").capabilities(params).audio == "always"
    assert backend_class("demo").capabilities({**BEST, "sound": 0}).audio == "none"
    fast = generate(tmp_path / "fast", make_request("a ball bouncing fast", params=params, duration_s=6.0))
    slow = generate(tmp_path / "slow", make_request("a ball bouncing slowly", params=params, duration_s=6.0))
    assert fast.vendor_metadata["sound"] is True
    info = probe(fast.video_path)
    (audio,) = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert (audio["codec_name"], audio["channels"], audio["sample_rate"]) == ("aac", 2, "48000")
    samples = decoded_mono(fast.video_path)
    assert abs(len(samples) / 8000 - 6.0) < 0.1  # as long as the picture
    # A bounce is sin(3 k t) in motion.pose: at speed 2.2 it swells 2.2 * 3 / 2 pi = 1.05 times a
    # second, at 0.45 (slowly) 0.21 times; the track follows.
    assert swell_hz(samples) == pytest.approx(2.2 * 3 / (2 * np.pi), abs=0.1)
    assert swell_hz(decoded_mono(slow.video_path)) < 0.45


def test_sound_changes_the_vendor_job_id_only_when_set():
    request = make_request()
    silent = vendor_job_id_for(request, parse_params(BEST | {"sound": 0}))
    assert silent == vendor_job_id_for(request, parse_params({k: v for k, v in BEST.items() if k != "sound"}))
    assert vendor_job_id_for(request, parse_params(BEST | {"sound": 0.5})) != silent
