"""The diffusers adapter on a tiny Wan pipeline built in the test (tests/tiny_diffusers.py):
offline, on the CPU, through the real from_pretrained, denoising loop, VAE and ffmpeg encode;
and on a tiny LTX-2 pipeline, whose sound track (audio VAE, vocoder) is muxed into the clip.

The out-of-memory tests wrap that real pipeline in a stand-in for a full GPU whose call raises
torch.OutOfMemoryError: a test double of the device (no GPU here), not of the pipeline."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.tiny_diffusers import TINY_LTX2_PARAMS, TINY_LTX2_SAMPLE_RATE, TINY_PARAMS, saved_tiny_ltx2, saved_tiny_wan
from workers.backends import diffusers_local
from workers.backends.base import GenerationRequest, PermanentError
from workers.backends.capabilities import AUDIO_ALWAYS, AUDIO_NONE, check_entry, model_capabilities
from workers.backends.diffusers_local import (
    DiffusersBackend,
    GenerationCancelled,
    TimeLimitExceeded,
    frame_count,
    parse_params,
)


@pytest.fixture(scope="module")
def tiny_wan_dir(tmp_path_factory) -> Path:
    return saved_tiny_wan(tmp_path_factory)


@pytest.fixture(scope="module", autouse=True)
def release_the_pipeline_afterwards():
    """Tests share the warm pipeline (loading it is most of a test's time); those that need a
    cold one evict it themselves. Nothing stays loaded for the next module."""
    yield
    diffusers_local.evict_warm()


def request_for(model_dir: Path | str, **overrides) -> GenerationRequest:
    params = {**TINY_PARAMS, "model_path": str(model_dir), **overrides.pop("params", {})}
    fields = {
        "prompt": "a red cat runs on the beach at sunset",
        "negative_prompt": "blurry",
        "duration_s": 1.0,
        "width": 64,
        "height": 32,
        "aspect_ratio": "16:9",
        "seed": 7,
        "params": params,
        **overrides,
    }
    return GenerationRequest(**fields)


def generate(request: GenerationRequest, workdir: Path, **hooks):
    submitted: list[str] = []
    result = DiffusersBackend().generate(
        request, workdir=workdir, resume_vendor_job_id=None, on_submitted=submitted.append, **hooks
    )
    return result, submitted


def probe_streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return json.loads(out)["streams"]


def probe(path: Path) -> dict:
    return probe_streams(path)[0]


def test_generates_an_mp4_at_the_native_size_fps_and_frame_count(tiny_wan_dir, tmp_path):
    result, submitted = generate(request_for(tiny_wan_dir), tmp_path)
    assert submitted == [result.vendor_job_id] and result.vendor_job_id.startswith("local-")
    streams = probe_streams(result.video_path)
    assert [s["codec_type"] for s in streams] == ["video"]  # Wan makes no sound: a silent clip
    stream = streams[0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 64, 32)
    assert stream["r_frame_rate"] == "8/1"
    assert int(stream["nb_read_frames"]) == 9  # 1 s at 8 fps -> 8 frames, on the 4k+1 grid: 9
    meta = result.vendor_metadata
    assert (meta["frames"], meta["steps"], meta["memory_mode"], meta["device"]) == (9, 2, "full", "cpu")
    assert (meta["audio"], meta["audio_sample_rate"]) == (False, None)
    assert result.cost_usd == 0.0


@pytest.fixture(scope="module")
def tiny_ltx2_dir(tmp_path_factory) -> Path:
    return saved_tiny_ltx2(tmp_path_factory)


def ltx2_request(model_dir: Path, **overrides) -> GenerationRequest:
    params = {**TINY_LTX2_PARAMS, "model_path": str(model_dir), **overrides.pop("params", {})}
    return request_for(model_dir, params=params, **overrides)


def test_ltx2_muxes_its_sound_track_into_the_clip_as_long_as_the_video(tiny_ltx2_dir, tmp_path):
    result, _ = generate(ltx2_request(tiny_ltx2_dir, duration_s=2.0), tmp_path)
    streams = {s["codec_type"]: s for s in probe_streams(result.video_path)}
    assert sorted(streams) == ["audio", "video"]
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["width"], video["height"], video["r_frame_rate"]) == ("h264", 64, 32, "8/1")
    assert int(video["nb_read_frames"]) == 17  # 2 s at 8 fps -> 16 frames, on the 8k+1 grid: 17
    assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("aac", TINY_LTX2_SAMPLE_RATE, 2)
    # The sound track lasts as long as the 17 frames (2.125 s), within a frame.
    assert abs(float(audio["duration"]) - 17 / 8) <= 1 / 8
    assert abs(float(video["duration"]) - 17 / 8) <= 1 / 8
    meta = result.vendor_metadata
    assert (meta["audio"], meta["audio_sample_rate"], meta["frames"]) == (True, TINY_LTX2_SAMPLE_RATE, 17)
    assert [path.name for path in tmp_path.iterdir()] == [result.video_path.name]  # the WAV is gone


def test_ltx2_sound_is_not_silence_and_follows_the_seed(tiny_ltx2_dir, tmp_path):
    first, _ = generate(ltx2_request(tiny_ltx2_dir, seed=1), tmp_path / "a")
    again, _ = generate(ltx2_request(tiny_ltx2_dir, seed=1), tmp_path / "b")
    assert first.video_path.read_bytes() == again.video_path.read_bytes()
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(first.video_path), "-map", "0:a", "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    samples = np.frombuffer(pcm, dtype="<i2")
    assert len(samples) >= TINY_LTX2_SAMPLE_RATE  # a second or more
    assert np.abs(samples).max() > 100  # the vocoder's waveform, not a silent track


def test_write_wav_cuts_or_pads_the_sound_to_the_videos_length(tmp_path):
    stereo = np.full((1000, 2), 0.5, dtype=np.float32)
    for seconds, frames in ((0.05, 800), (0.1, 1600)):  # at 16 kHz: cut 1000 samples to 800, pad to 1600
        path = diffusers_local.write_wav(tmp_path / f"{frames}.wav", stereo, 16000, seconds)
        with wave.open(str(path)) as wav:
            assert (wav.getnframes(), wav.getnchannels(), wav.getframerate()) == (frames, 2, 16000)
            pcm = np.frombuffer(wav.readframes(frames), dtype="<i2").reshape(-1, 2)
        assert (pcm[: min(frames, 1000)] == 16384).all() and (pcm[1000:] == 0).all()


def test_the_catalog_says_which_local_models_make_sound():
    assert model_capabilities("diffusers", TINY_LTX2_PARAMS).audio == AUDIO_ALWAYS
    assert model_capabilities("diffusers", TINY_PARAMS).audio == AUDIO_NONE
    with pytest.raises(PermanentError, match="audio"):
        parse_params({**TINY_PARAMS, "audio": "optional"})  # a pipeline has no sound switch


def test_the_seed_decides_the_frames_and_the_pipeline_stays_warm(tiny_wan_dir, tmp_path):
    first, _ = generate(request_for(tiny_wan_dir, seed=1), tmp_path / "a")
    warm = dict(diffusers_local._WARM)
    again, _ = generate(request_for(tiny_wan_dir, seed=1), tmp_path / "b")
    other, _ = generate(request_for(tiny_wan_dir, seed=2), tmp_path / "c")
    assert list(warm) == [(str(tiny_wan_dir), "float32", "full")]
    assert diffusers_local._WARM == warm  # the same pipeline object served all three jobs
    assert first.video_path.read_bytes() == again.video_path.read_bytes()
    assert first.video_path.read_bytes() != other.video_path.read_bytes()


def test_a_missing_model_names_every_place_looked_and_downloads_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENTEST_LOCAL_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    request = request_for(tmp_path / "nowhere", params={"model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"})
    with pytest.raises(PermanentError) as caught:
        generate(request, tmp_path)
    message = str(caught.value)
    assert caught.value.code == "model_missing"
    assert str(tmp_path / "nowhere") in message and str(tmp_path / "models" / "Wan2.1-T2V-1.3B-Diffusers") in message
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.safetensors"))


def test_the_models_dir_finds_the_model_by_its_repo_name(tiny_wan_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENTEST_LOCAL_MODELS_DIR", str(tiny_wan_dir.parent))
    result, _ = generate(request_for("", params={"model": f"someone/{tiny_wan_dir.name}"}), tmp_path)
    assert result.vendor_metadata["model_dir"] == str(tiny_wan_dir)


def test_progress_is_reported_after_every_step(tiny_wan_dir, tmp_path):
    steps: list[tuple[int, int]] = []
    generate(request_for(tiny_wan_dir, params={"steps": 3}), tmp_path, on_progress=lambda d, n: steps.append((d, n)))
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_cancel_stops_between_steps_and_writes_no_file(tiny_wan_dir, tmp_path):
    steps: list[int] = []
    with pytest.raises(GenerationCancelled) as caught:
        generate(
            request_for(tiny_wan_dir, params={"steps": 4}),
            tmp_path,
            on_progress=lambda done, total: steps.append(done),
            should_cancel=lambda: len(steps) >= 2,
        )
    assert caught.value.code == "cancelled" and steps == [1, 2]
    assert not list(tmp_path.glob("*.mp4"))


def test_the_models_time_limit_stops_between_steps_and_the_warm_pipeline_stays_usable(tiny_wan_dir, tmp_path):
    steps: list[int] = []
    overdue = request_for(tiny_wan_dir, params={"steps": 3, "time_limit_s": 1e-6})
    with pytest.raises(TimeLimitExceeded) as caught:
        generate(overdue, tmp_path / "a", on_progress=lambda done, total: steps.append(done))
    assert caught.value.code == "timed_out" and steps == [1]
    assert "after step 1 of 3" in str(caught.value) and "time limit of 1e-06 s" in str(caught.value)
    assert not list(tmp_path.rglob("*.mp4"))
    warm = dict(diffusers_local._WARM)
    assert warm  # stopped between steps: the pipeline is kept
    after, _ = generate(request_for(tiny_wan_dir, params={"steps": 3}), tmp_path / "b")
    assert diffusers_local._WARM == warm
    diffusers_local.evict_warm()
    fresh, _ = generate(request_for(tiny_wan_dir, params={"steps": 3}), tmp_path / "c")
    assert after.video_path.read_bytes() == fresh.video_path.read_bytes()  # nothing of the stopped run lingered


def test_a_call_interrupted_part_way_drops_the_warm_pipeline(tiny_wan_dir, tmp_path):
    def interrupted(done, total):  # what the worker's soft time limit does: raise wherever Python is
        raise KeyboardInterrupt("interrupted during a step")

    with pytest.raises(KeyboardInterrupt):
        generate(request_for(tiny_wan_dir), tmp_path, on_progress=interrupted)
    assert diffusers_local._WARM == {}


class FullGpu:
    """Stands in for a GPU that has no room in the given memory modes: calling the pipeline
    there raises torch.OutOfMemoryError as CUDA would; elsewhere the real pipeline runs."""

    def __init__(self, monkeypatch, full_in: set[str]):
        self.loads: list[str] = []
        real_load = diffusers_local.load_pipeline

        def load(path, dtype, mode, *, vae_tiling):
            self.loads.append(mode)
            pipe = real_load(path, dtype, mode, vae_tiling=vae_tiling)
            if mode not in full_in:
                return pipe

            def out_of_memory(*args, **kwargs):
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

            return out_of_memory

        monkeypatch.setattr(diffusers_local, "load_pipeline", load)


def test_out_of_memory_retries_once_in_a_lower_memory_mode(tiny_wan_dir, tmp_path, monkeypatch):
    gpu = FullGpu(monkeypatch, full_in={"full"})
    result, _ = generate(request_for(tiny_wan_dir), tmp_path)
    assert gpu.loads == ["full", "model_offload"]
    assert result.vendor_metadata["memory_mode"] == "model_offload" and result.video_path.stat().st_size > 0


def test_out_of_memory_twice_is_a_clear_failure(tiny_wan_dir, tmp_path, monkeypatch):
    gpu = FullGpu(monkeypatch, full_in={"full", "model_offload"})
    with pytest.raises(PermanentError) as caught:
        generate(request_for(tiny_wan_dir), tmp_path)
    assert gpu.loads == ["full", "model_offload"]
    assert caught.value.code == "out_of_memory"
    assert "full mode and again in model_offload mode" in str(caught.value)
    assert diffusers_local._WARM == {}  # nothing left holding the device's memory


@pytest.mark.parametrize(
    ("seconds", "fps", "multiple", "most", "frames"),
    [(5, 16, 4, 81, 81), (1, 16, 4, 81, 17), (5, 24, 8, 161, 121), (6, 8, 8, 49, 49), (10, 16, 4, 81, 81)],
)
def test_frame_counts_follow_the_models_grid(seconds, fps, multiple, most, frames):
    p = parse_params({**TINY_PARAMS, "fps": fps, "frame_multiple": multiple, "max_frames": most})
    assert frame_count(seconds, p) == frames


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"dtype": "int8"}, "dtype"),
        ({"memory_mode": "turbo"}, "memory_mode"),
        ({"steps": 0}, "steps"),
        ({"model": ""}, "model"),
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": "soon"}, "time_limit_s"),
        ({"audio": "sometimes"}, "audio"),
    ],
)
def test_bad_params_are_invalid_requests(tmp_path, params, fragment):
    with pytest.raises(PermanentError) as caught:
        generate(request_for(tmp_path, params=params), tmp_path)
    assert caught.value.code == "invalid_request" and fragment in str(caught.value)


def test_the_catalogs_local_entries_are_possible_and_disabled():
    catalog = json.loads(Path("webapp/catalog/data/catalog.json").read_text())
    local = [m for m in catalog["models"] if m["backend_key"] == "diffusers"]
    assert {m["slug"] for m in local} >= {
        "wan-2-1-t2v-1-3b",
        "wan-2-1-t2v-14b",
        "wan-2-2-ti2v-5b",
        "ltx-video",
        "ltx-2",
        "cogvideox-2b",
        "cogvideox-5b",
        "hunyuanvideo",
    }
    for model in local:
        params = model["backend_params"]
        assert model["enabled"] is False and params["model_path"] == ""
        assert check_entry("diffusers", params, params["durations"], model["supported_aspect_ratios"]) == []
        p = parse_params(params)
        assert frame_count(p.max_duration_s, p) <= p.max_frames and params["sources"]
    sound = {m["slug"] for m in local if model_capabilities("diffusers", m["backend_params"]).audio == AUDIO_ALWAYS}
    assert sound == {"ltx-2"}
