"""Open-weights video models on the operator's own hardware, through Hugging Face diffusers.

Only the `gpu` Celery queue's workers import this module (the registry imports adapters
lazily), so torch never weighs on the web process or the vendor workers. What the catalog needs
to know (parameters, frame counts, capabilities) lives in the torch-free `diffusers_params`,
which is all the web process imports (registry.CATALOG_CLASSES).

- Weights come from a local directory (`model_path` in the catalog params, or
  `$SCREENTEST_LOCAL_MODELS_DIR/<repo name>`) or from the operator's Hugging Face cache, and
  never from the network: HF_HUB_OFFLINE is set before diffusers is imported and every load
  passes `local_files_only=True`. A missing model is a PermanentError naming every place looked.
- The pipeline stays warm in the worker process between jobs (`_WARM`, keyed by path, dtype
  and memory mode). One model at a time: a GPU seldom holds two, so loading another evicts it.
- Frames: the model's native fps times the duration, rounded to the frame-count grid the model
  needs (Wan: 4k+1, LTX/CogVideoX: 8k+1), at the native size for the aspect ratio, with the
  catalog's step count and guidance scale.
- Progress, cancellation and the time limit: diffusers' `callback_on_step_end` reports each
  step, polls a cancel callable and checks the model's own time limit (`time_limit_s` in the
  catalog params, counted from the job's start, loading included), so a cancelled or overdue
  job stops between steps. Stopping there leaves the warm pipeline intact (the next call
  starts its own denoising loop); anything else that interrupts a call part-way (the worker's
  soft time limit, a failing kernel) drops the pipeline, and the next job loads it afresh.
- Out of memory: the pipeline is reloaded once in the next lower-memory mode (model CPU
  offload, then sequential offload; VAE tiling on), then the job fails with a clear message.
- Sound: a pipeline that generates a sound track with the pictures (LTX-2: its output's `audio`,
  the vocoder's waveform at `vocoder.config.output_sampling_rate`) has it written as a 16-bit
  WAV cut or padded to the video's length, which the same ffmpeg call muxes into the MP4 as AAC.
  Pipelines without audio give silent clips as before.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before diffusers/transformers read it

import diffusers
import numpy as np
import torch
from huggingface_hub import snapshot_download

from .base import GenerationRequest, GenerationResult, PermanentError, SubmittedCallback
from .demo.encode import encode_frames, resolve_ffmpeg
from .diffusers_params import (
    MEMORY_MODES,
    MODELS_DIR_ENV,
    DiffusersCatalog,
    LocalParams,
    frame_count,
    invalid_request,
    model_candidates,
    parse_params,
)

# torch's dtype for each name the catalog may give (diffusers_params.DTYPE_NAMES).
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
ProgressCallback = Callable[[int, int], None]  # (steps done, steps in all)
CancelCheck = Callable[[], bool]


class GenerationCancelled(PermanentError):
    code = "cancelled"


class TimeLimitExceeded(PermanentError):
    """The model's time limit ran out. Final: another attempt would run as long again."""

    code = "timed_out"


def resolve_model_dir(p: LocalParams) -> Path:
    """The local directory holding the pipeline (its model_index.json), never a download."""
    places = model_candidates(p)
    for place in places:
        if (place / "model_index.json").is_file():
            return place
    try:
        cached = Path(snapshot_download(p.model, local_files_only=True))
        if (cached / "model_index.json").is_file():
            return cached
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        pass
    looked = ", ".join(str(place) for place in places) or f"(no model_path; ${MODELS_DIR_ENV} unset)"
    raise PermanentError(
        f"diffusers backend: model {p.model!r} is not on this machine: no model_index.json in {looked}, "
        f"nor in the Hugging Face cache. Download it on the GPU host (huggingface-cli download {p.model}) "
        "or set the model's model_path; jobs never download weights",
        code="model_missing",
    )


# The warm pipeline of this worker process: (path, dtype, memory mode) -> pipeline.
_WARM: dict[tuple[str, str, str], Any] = {}


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pipeline(path: Path, dtype: str, mode: str, *, vae_tiling: bool) -> Any:
    """The pipeline for (path, dtype, mode), loaded once per process; others are evicted."""
    key = (str(path), dtype, mode)
    if key in _WARM:
        return _WARM[key]
    evict_warm()
    # Whoever edits a catalog entry chooses the path, so loading runs no code from it and
    # unpickles nothing: no remote/custom code, safetensors weights only.
    pipe = diffusers.DiffusionPipeline.from_pretrained(
        str(path),
        dtype=DTYPES[dtype],
        local_files_only=True,
        trust_remote_code=False,
        use_safetensors=True,
    )
    on_gpu = _device() == "cuda"
    if mode == "model_offload" and on_gpu:
        pipe.enable_model_cpu_offload()
    elif mode == "sequential_offload" and on_gpu:
        pipe.enable_sequential_cpu_offload()
    else:
        pipe.to(_device())
    if (vae_tiling or mode != "full") and hasattr(pipe, "vae") and hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)
    _WARM[key] = pipe
    return pipe


def evict_warm() -> None:
    _WARM.clear()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def lower_memory_mode(mode: str) -> str | None:
    index = MEMORY_MODES.index(mode)
    return MEMORY_MODES[index + 1] if index + 1 < len(MEMORY_MODES) else None


@dataclass(frozen=True)
class Generated:
    """What one call of the pipeline gave: its frames, and its sound track if it makes one."""

    frames: Any
    audio: np.ndarray | None = None  # (samples, channels) floats in [-1, 1]
    sample_rate: int = 0


def audio_of(output: Any, pipe: Any) -> tuple[np.ndarray | None, int]:
    """The pipeline output's sound track as (samples, channels) floats and its sample rate, or
    (None, 0) for a silent pipeline. LTX-2 returns the vocoder's waveform, (batch, channels,
    samples), whatever output_type is; its rate is the vocoder's output_sampling_rate."""
    audio = getattr(output, "audio", None)
    if audio is None:
        return None, 0
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().float().cpu().numpy()
    array = np.asarray(audio[0] if isinstance(audio, list | tuple) else audio, dtype=np.float32)
    if array.ndim == 3:
        array = array[0]  # the batch of one
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] > 8:
        raise PermanentError(f"diffusers backend: unexpected audio of shape {array.shape}", code="invalid_output")
    config = getattr(getattr(pipe, "vocoder", None), "config", None)
    rate = getattr(config, "output_sampling_rate", None) or getattr(pipe, "audio_sampling_rate", None)
    if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
        raise PermanentError(
            "diffusers backend: the pipeline returned audio but no sample rate (vocoder.config.output_sampling_rate)",
            code="invalid_output",
        )
    return np.ascontiguousarray(array.T), int(rate)


def write_wav(path: Path, audio: np.ndarray, sample_rate: int, duration_s: float) -> Path:
    """`audio` ((samples, channels) floats in [-1, 1]) as 16-bit PCM WAV, cut or padded with
    silence to `duration_s`, so the sound track ends with the last frame."""
    n_samples = round(duration_s * sample_rate)
    pcm = (np.clip(audio[:n_samples], -1.0, 1.0) * 32767.0).round().astype("<i2")
    if pcm.shape[0] < n_samples:
        pcm = np.concatenate([pcm, np.zeros((n_samples - pcm.shape[0], pcm.shape[1]), dtype="<i2")])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(int(pcm.shape[1]))
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.ascontiguousarray(pcm).tobytes())
    return path


def to_uint8_frames(frames: Any) -> np.ndarray:
    """diffusers' output_type="np" frames (F, H, W, 3) floats in [0, 1] -> uint8 RGB."""
    array = np.asarray(frames[0] if isinstance(frames, list | tuple) or np.ndim(frames) == 5 else frames)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise PermanentError(f"diffusers backend: unexpected frames of shape {array.shape}", code="invalid_output")
    return np.ascontiguousarray((np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


class DiffusersBackend(DiffusersCatalog):
    """A diffusers pipeline on this worker's device. Costs nothing per clip (cost_usd=0.0)."""

    def generate(
        self,
        request: GenerationRequest,
        *,
        workdir: Path,
        resume_vendor_job_id: str | None,
        on_submitted: SubmittedCallback,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> GenerationResult:
        started = time.monotonic()
        params = request.params or {}
        p = parse_params(params)
        if not isinstance(request.seed, int) or isinstance(request.seed, bool):
            raise invalid_request(f"seed must be an integer, got {request.seed!r}")
        duration = request.duration_s
        if isinstance(duration, bool) or not isinstance(duration, int | float) or not 0 < duration <= p.max_duration_s:
            raise invalid_request(f"duration_s must be in (0, {p.max_duration_s}] seconds, got {duration!r}")
        ffmpeg = resolve_ffmpeg(params)
        model_dir = resolve_model_dir(p)
        n_frames = frame_count(float(duration), p)
        job_id = resume_vendor_job_id or self._job_id(request, p, n_frames)
        if not resume_vendor_job_id:
            on_submitted(job_id)

        mode = p.memory_mode
        deadline = None if p.time_limit_s is None else started + p.time_limit_s
        run = Run(request, p, n_frames, on_progress, should_cancel, deadline)
        try:
            generated = run.output(model_dir, mode)
        except torch.OutOfMemoryError as first:
            lower = lower_memory_mode(mode)
            evict_warm()
            if lower is None:
                raise PermanentError(
                    f"diffusers backend: out of memory in {mode} mode, the lowest there is: {first}",
                    code="out_of_memory",
                ) from first
            try:
                generated = run.output(model_dir, lower)
            except torch.OutOfMemoryError as second:
                evict_warm()
                raise PermanentError(
                    f"diffusers backend: out of memory in {mode} mode and again in {lower} mode; "
                    f"use a smaller model or a larger GPU: {second}",
                    code="out_of_memory",
                ) from second
            mode = lower

        video = to_uint8_frames(generated.frames)
        height, width = int(video.shape[1]), int(video.shape[2])
        dest = Path(workdir) / f"{job_id}.mp4"
        dest.parent.mkdir(parents=True, exist_ok=True)
        sound_file = None
        if generated.audio is not None:
            sound_file = write_wav(
                dest.with_suffix(".wav"), generated.audio, generated.sample_rate, video.shape[0] / p.fps
            )
        try:
            encode_frames(
                iter(video),
                ffmpeg=ffmpeg,
                in_size=(width, height),
                out_size=(width - width % 2, height - height % 2),
                fps=p.fps,
                dest=dest,
                timeout_s=p.render_timeout_s,
                sound_file=sound_file,
            )
        finally:
            if sound_file is not None:
                sound_file.unlink(missing_ok=True)
        return GenerationResult(
            video_path=dest,
            vendor_job_id=job_id,
            cost_usd=0.0,
            vendor_metadata={
                "model": p.model,
                "model_dir": str(model_dir),
                "fps": p.fps,
                "frames": int(video.shape[0]),
                "width": width,
                "height": height,
                "steps": p.steps,
                "guidance_scale": p.guidance_scale,
                "dtype": p.dtype,
                "memory_mode": mode,
                "seed": int(request.seed),
                "device": _device(),
                "audio": generated.audio is not None,
                "audio_sample_rate": generated.sample_rate or None,
            },
        )

    @staticmethod
    def _job_id(request: GenerationRequest, p: LocalParams, n_frames: int) -> str:
        decisive = {
            "model": p.model,
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or "",
            "seed": int(request.seed),
            "size": [int(request.width), int(request.height)],
            "frames": n_frames,
            "steps": p.steps,
            "guidance_scale": p.guidance_scale,
        }
        digest = hashlib.sha256(json.dumps(decisive, sort_keys=True).encode("utf-8")).hexdigest()[:16]
        return f"local-{digest}"


@dataclass(frozen=True)
class Run:
    """One job's call of the pipeline, with the checks made between its denoising steps."""

    request: GenerationRequest
    p: LocalParams
    n_frames: int
    on_progress: ProgressCallback | None
    should_cancel: CancelCheck | None
    deadline: float | None  # time.monotonic() past which the job stops at the next step

    def step_end(self, pipeline: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
        done, steps = step + 1, self.p.steps
        if self.on_progress is not None:
            self.on_progress(done, steps)
        if self.should_cancel is not None and self.should_cancel():
            raise GenerationCancelled(f"diffusers backend: cancelled after step {done} of {steps}")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeLimitExceeded(
                f"diffusers backend: stopped after step {done} of {steps}: the model's time limit of "
                f"{self.p.time_limit_s:g} s per job (catalog time_limit_s) ran out; give it fewer steps, "
                "frames or a larger limit"
            )
        return callback_kwargs

    def output(self, model_dir: Path, mode: str) -> Generated:
        pipe = load_pipeline(model_dir, self.p.dtype, mode, vae_tiling=self.p.vae_tiling)
        # The generator lives on the CPU so a seed gives the same noise on every device.
        generator = torch.Generator(device="cpu").manual_seed(int(self.request.seed))
        try:
            with torch.inference_mode():
                output = pipe(
                    prompt=self.request.prompt,
                    negative_prompt=self.request.negative_prompt or None,
                    height=int(self.request.height),
                    width=int(self.request.width),
                    num_frames=self.n_frames,
                    num_inference_steps=self.p.steps,
                    guidance_scale=self.p.guidance_scale,
                    generator=generator,
                    output_type="np",
                    callback_on_step_end=self.step_end,
                    **self.p.extra_call_args,
                )
        except (GenerationCancelled, TimeLimitExceeded):
            raise  # raised between steps: the pipeline holds nothing of this call
        except BaseException:
            # Interrupted part-way (the worker's soft time limit, out of memory, a failing
            # kernel): what the pipeline holds is unknown, so the next job loads it afresh.
            evict_warm()
            raise
        audio, sample_rate = audio_of(output, pipe)
        return Generated(frames=output.frames, audio=audio, sample_rate=sample_rate)
