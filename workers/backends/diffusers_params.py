"""What the catalog knows of a local diffusers model, without torch: its parameters, its frame
counts and its capabilities. The web process and the vendor workers check catalog entries with
this module alone (registry.CATALOG_CLASSES); `diffusers_local` generates, on the gpu queue,
with the `local` extra installed."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import PermanentError
from .capabilities import AUDIO_ALWAYS, AUDIO_NONE, Capabilities, UnsupportedModel

MODELS_DIR_ENV = "SCREENTEST_LOCAL_MODELS_DIR"
# Lower-memory modes in the order the out-of-memory retry walks them.
MEMORY_MODES = ("full", "model_offload", "sequential_offload")
DTYPE_NAMES = ("bfloat16", "float16", "float32")
# What a local model makes: silent video, or video with the sound track its pipeline generates
# (LTX-2). A pipeline has no sound switch, so "optional" is not among them.
LOCAL_AUDIO_KINDS = (AUDIO_NONE, AUDIO_ALWAYS)


@dataclass(frozen=True)
class LocalParams:
    model: str  # Hugging Face repo id, for the cache and the default directory name
    model_path: str  # the operator's local directory; "" = look in the models dir / HF cache
    fps: int
    frame_multiple: int  # frame counts are k * frame_multiple + 1
    max_frames: int
    steps: int
    guidance_scale: float
    dtype: str
    memory_mode: str
    vae_tiling: bool
    max_duration_s: int
    render_timeout_s: float
    time_limit_s: float | None  # seconds per job, checked between steps; None: the worker's limit only
    extra_call_args: Mapping[str, Any]
    audio: str = AUDIO_NONE  # LOCAL_AUDIO_KINDS: "always" when the pipeline generates a sound track


def invalid_request(message: str) -> PermanentError:
    return PermanentError(f"diffusers backend: {message}", code="invalid_request")


def parse_params(params: Mapping[str, Any]) -> LocalParams:
    def number(name: str, default: float | None = None) -> float:
        value = params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise invalid_request(f"params[{name!r}] must be a positive number, got {value!r}")
        return float(value)

    model = params.get("model", "")
    if not isinstance(model, str) or not model:
        raise invalid_request("params['model'] must name the model (its Hugging Face repo id)")
    dtype = params.get("dtype", "bfloat16")
    if dtype not in DTYPE_NAMES:
        raise invalid_request(f"params['dtype'] must be one of {', '.join(DTYPE_NAMES)}, got {dtype!r}")
    mode = params.get("memory_mode", "full")
    if mode not in MEMORY_MODES:
        raise invalid_request(f"params['memory_mode'] must be one of {', '.join(MEMORY_MODES)}, got {mode!r}")
    extra = params.get("call_args", {})
    if not isinstance(extra, Mapping):
        raise invalid_request("params['call_args'] must be an object")
    audio = params.get("audio", AUDIO_NONE)
    if audio not in LOCAL_AUDIO_KINDS:
        raise invalid_request(f"params['audio'] must be one of {', '.join(LOCAL_AUDIO_KINDS)}, got {audio!r}")
    fps = int(number("fps"))
    time_limit = params.get("time_limit_s")
    return LocalParams(
        model=model,
        model_path=str(params.get("model_path") or ""),
        fps=fps,
        frame_multiple=int(number("frame_multiple", 4)),
        max_frames=int(number("max_frames")),
        steps=int(number("steps")),
        guidance_scale=number("guidance_scale"),
        dtype=dtype,
        memory_mode=mode,
        vae_tiling=bool(params.get("vae_tiling", False)),
        max_duration_s=int(number("max_duration_s", 5)),
        render_timeout_s=number("render_timeout_s", 600),
        time_limit_s=None if time_limit is None else number("time_limit_s"),
        extra_call_args=dict(extra),
        audio=audio,
    )


def frame_count(duration_s: float, p: LocalParams) -> int:
    """Frames for `duration_s` at the native fps on the model's k*m+1 grid, within its maximum."""
    wanted = max(1.0, duration_s * p.fps)
    k = max(1, round((wanted - 1) / p.frame_multiple))
    k = min(k, (p.max_frames - 1) // p.frame_multiple)
    return k * p.frame_multiple + 1


def model_candidates(p: LocalParams) -> list[Path]:
    """Where the weights may be, in order: the catalog's path, then the operator's models dir."""
    places = []
    if p.model_path:
        places.append(Path(p.model_path).expanduser())
    models_dir = os.environ.get(MODELS_DIR_ENV)
    if models_dir:
        places.append(Path(models_dir).expanduser() / p.model.rsplit("/", 1)[-1])
    return places


class DiffusersCatalog:
    """The diffusers backend's catalog knowledge; `diffusers_local.DiffusersBackend` adds generation."""

    key = "diffusers"
    key_env_names: tuple[str, ...] = ()  # local weights: no keys

    @classmethod
    def capabilities(cls, params: Mapping[str, Any]) -> Capabilities:
        try:
            p = parse_params(params or {})
        except PermanentError as exc:
            raise UnsupportedModel(str(exc)) from None
        sizes = params.get("sizes") or {}
        return Capabilities(
            durations=tuple(float(s) for s in range(1, p.max_duration_s + 1)),
            aspect_ratios=tuple(sizes) or ("16:9",),
            audio=p.audio,
            seed=True,
            negative_prompt=True,
            source=f"https://huggingface.co/{p.model} (model card); docs/backends.md",
        )
