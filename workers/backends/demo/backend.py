"""The adapter: validates the request and params, assigns the vendor job id, simulates the
vendor's latency, renders and encodes, and reports a `GenerationResult`."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
import time
from pathlib import Path

from ..base import GenerationRequest, GenerationResult, PermanentError, SubmittedCallback
from ..capabilities import AUDIO_ALWAYS, AUDIO_NONE, Capabilities, UnsupportedModel
from .encode import encode_frames, resolve_ffmpeg
from .params import MAX_SIDE, MIN_SIDE, DemoParams, parse_params
from .render import iter_frames, render_size
from .scene import plan_scene
from .sound import sound_source

RENDERER = "procedural-demo"
# Part of the vendor job id: bump when the drawing changes so old ids don't alias new output.
RENDERER_VERSION = 1


def _invalid(message: str) -> PermanentError:
    return PermanentError(f"demo backend: {message}", code="invalid_request")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def validate_request(request: GenerationRequest, p: DemoParams) -> None:
    if not isinstance(request.prompt, str):
        raise _invalid("prompt must be a string")
    if not isinstance(request.negative_prompt or "", str):
        raise _invalid("negative_prompt must be a string")
    d = request.duration_s
    if isinstance(d, bool) or not isinstance(d, numbers.Real) or not math.isfinite(d):
        raise _invalid(f"duration_s must be a number, got {d!r}")
    if not 0 < d <= p.max_duration_s:
        raise _invalid(f"duration_s must be in (0, {p.max_duration_s:g}] seconds for this model, got {d!r}")
    for name in ("width", "height"):
        v = getattr(request, name)
        if not _is_int(v):
            raise _invalid(f"{name} must be an integer, got {v!r}")
        if not MIN_SIDE <= v <= MAX_SIDE or v % 2:
            raise _invalid(f"{name} must be an even number of pixels in [{MIN_SIDE}, {MAX_SIDE}], got {v}")
    if not _is_int(request.seed):
        raise _invalid(f"seed must be an integer, got {request.seed!r}")


def vendor_job_id_for(request: GenerationRequest, p: DemoParams) -> str:
    decisive: dict = {
        "renderer": f"{RENDERER}/{RENDERER_VERSION}",
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or "",
        "seed": int(request.seed),
        "params": p.visual(),
        "size": [int(request.width), int(request.height)],
        "duration_s": float(request.duration_s),
    }
    if p.sound:  # only then, so the ids of silent models stay what they were
        decisive["sound"] = p.sound
    payload = json.dumps(decisive, sort_keys=True, separators=(",", ":"))
    return "demo-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _file_stem(vendor_job_id: str) -> str:
    """The id itself when it is a plain name (ours always are); a resumed id from elsewhere
    that could not be a safe file name is hashed instead, so it cannot escape the workdir."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", vendor_job_id):
        return vendor_job_id
    return "demo-resumed-" + hashlib.sha256(vendor_job_id.encode("utf-8")).hexdigest()[:16]


def _sleep(seconds: float) -> None:
    """Simulated vendor queue; small steps so a killed worker stops promptly."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(0.05, left))


class ProceduralDemoBackend:
    """Procedural demo "model": draws prompt-steered animations with numpy, encodes with ffmpeg.

    NOT a neural video model. The output is a deterministic function of the prompt's words,
    the seed, the size, the duration and the catalog params (fps, render_scale,
    motion_smoothness, flicker, blur, noise), so the arena works offline with no API keys and
    demo models differ only through data. Costs nothing (cost_usd=0.0).
    """

    key = "demo"
    key_env_names: tuple[str, ...] = ()  # offline: no keys

    @classmethod
    def capabilities(cls, params) -> Capabilities:
        """Any whole number of seconds up to the model's max_duration_s, any of the three
        aspects; the seed and negative prompt shape the output. A model whose params set
        `sound` always has a sound track (no switch), the others are silent."""
        try:
            p = parse_params(params or {})
        except PermanentError as exc:
            raise UnsupportedModel(str(exc)) from None
        return Capabilities(
            durations=tuple(float(s) for s in range(1, int(p.max_duration_s) + 1)),
            aspect_ratios=("16:9", "9:16", "1:1"),
            audio=AUDIO_ALWAYS if p.sound > 0 else AUDIO_NONE,
            seed=True,
            negative_prompt=True,
            source="workers/backends/demo (procedural renderer)",
        )

    def generate(
        self,
        request: GenerationRequest,
        *,
        workdir: Path,
        resume_vendor_job_id: str | None,
        on_submitted: SubmittedCallback,
    ) -> GenerationResult:
        params = request.params or {}
        p = parse_params(params)
        validate_request(request, p)
        ffmpeg = resolve_ffmpeg(params)

        if resume_vendor_job_id:
            vendor_job_id = resume_vendor_job_id
        else:
            vendor_job_id = vendor_job_id_for(request, p)
            on_submitted(vendor_job_id)

        if p.latency_s > 0:
            _sleep(p.latency_s)

        n_frames = max(1, int(math.floor(float(request.duration_s) * p.fps + 0.5)))
        dest = Path(workdir) / f"{_file_stem(vendor_job_id)}.mp4"
        rw, rh = render_size(request.width, request.height, p.render_scale)
        plan = plan_scene(request.prompt, request.negative_prompt)
        encode_frames(
            iter_frames(request, p, n_frames, plan),
            ffmpeg=ffmpeg,
            in_size=(rw, rh),
            out_size=(request.width, request.height),
            fps=p.fps,
            dest=dest,
            timeout_s=p.render_timeout_s,
            sound=sound_source(plan, duration_s=n_frames / p.fps, level=p.sound) if p.sound > 0 else None,
        )
        return GenerationResult(
            video_path=dest,
            vendor_job_id=vendor_job_id,
            cost_usd=0.0,
            vendor_metadata={
                "renderer": RENDERER,
                "renderer_version": RENDERER_VERSION,
                "fps": p.fps,
                "frames": n_frames,
                "width": int(request.width),
                "height": int(request.height),
                "render_width": rw,
                "render_height": rh,
                "duration_s": n_frames / p.fps,
                "seed": int(request.seed),
                "scene": plan.summary(),
                "sound": p.sound > 0,
            },
        )
