"""Request + params -> rendered frames: builds the scene at the render size, then applies the
per-model imperfections: motion smoothness (stutter, shake, snapping), blur, flicker and grain.

Every random choice comes from an rng seeded by the prompt's words, the negative prompt's
words and the seed, so the frames are a pure function of the request and params."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..base import GenerationRequest
from .compose import build_scene
from .drawing import box_blur
from .motion import FrameMotion
from .params import DemoParams
from .scene import ScenePlan, prompt_words
from .seeding import seeded_rng


def render_size(w: int, h: int, scale: float) -> tuple[int, int]:
    """The size frames are drawn at (ffmpeg upscales them to the requested size)."""
    return max(8, int(round(w * scale))), max(8, int(round(h * scale)))


def frame_schedule(n_frames: int, p: DemoParams, key: str) -> list[FrameMotion]:
    """Scene time and camera imperfections per frame. Low smoothness repeats frames
    (stutter), shakes the camera and snaps positions to a coarse grid."""
    rough = 1.0 - p.motion_smoothness
    rng = seeded_rng(key, "motion")
    frames: list[FrameMotion] = []
    held = 0
    for i in range(n_frames):
        t = i / p.fps
        if frames and rough > 0 and held < 2 and rng.random() < rough * 0.55:
            frames.append(frames[-1])  # identical object: the renderer reuses the frame
            held += 1
            continue
        held = 0
        jx = float(rng.normal(0, rough * 1.8)) if rough > 0 else 0.0
        jy = float(rng.normal(0, rough * 1.8)) if rough > 0 else 0.0
        frames.append(FrameMotion(t=t, jx=jx, jy=jy, quantum=rough * 7.0 * p.render_scale))
    return frames


def _blur_radius(p: DemoParams) -> int:
    r = p.blur * 5.0 * p.render_scale
    return int(math.floor(r + 0.5)) if p.blur > 0 else 0


def iter_frames(request: GenerationRequest, p: DemoParams, n_frames: int, plan: ScenePlan) -> Iterator[np.ndarray]:
    """Yield `n_frames` frames of `plan` (the request's `plan_scene`) at the render size
    (`render_scale` x the requested size) as contiguous H x W x 3 uint8 arrays."""
    rw, rh = render_size(request.width, request.height, p.render_scale)
    words_key = (" ".join(prompt_words(request.prompt)), " ".join(prompt_words(request.negative_prompt)), request.seed)
    scene = build_scene(plan, rw, rh, seeded_rng("scene", *words_key))
    schedule = frame_schedule(n_frames, p, repr(words_key))
    blur_r = _blur_radius(p)

    gains = np.ones(n_frames, np.float32)
    if p.flicker > 0:
        jolts = np.clip(seeded_rng("flicker", *words_key).normal(0, 1, n_frames), -2.5, 2.5)
        gains = (1 + p.flicker * 0.45 * jolts).astype(np.float32)
    grain = None
    if p.noise > 0:
        g_rng = seeded_rng("grain", *words_key)
        grain = (g_rng.normal(0, 1, (6, rh, rw, 1)) * (p.noise * 55)).astype(np.float32)
        picks = g_rng.integers(0, 6, n_frames)

    canvas = np.empty((rh, rw, 3), np.float32)
    out = np.empty((rh, rw, 3), np.float32)
    last_fr: FrameMotion | None = None
    base = canvas
    for i, fr in enumerate(schedule):
        if fr is not last_fr:  # a held (stuttering) frame reuses the last render
            scene.render(canvas, fr)
            base = box_blur(canvas, blur_r) if blur_r else canvas
            last_fr = fr
        if p.flicker > 0 or grain is not None:
            np.multiply(base, gains[i], out=out)
            if grain is not None:
                out += grain[picks[i]]
            np.clip(out, 0, 255, out=out)
        else:
            np.clip(base, 0, 255, out=out)
        yield out.astype(np.uint8)
