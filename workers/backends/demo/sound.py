"""The procedural sound track of a demo model whose catalog params set `sound` (its level,
0..1): two tones, a root and its fifth, whose loudness swells and whose stereo position
sways once per cycle of the scene's motion (`motion.pose`: an orbit, a bounce, a pulse, a
drift...), so what is heard follows what is seen. Pitch comes from the palette, the cycle from
the kind and speed of motion; nothing is random, so the same request gives the same samples.

Made by ffmpeg's ``aevalsrc`` (a lavfi input of the encode, `encode.ffmpeg_argv`); like the
pictures, it is a demo, not a model of sound.
"""

from __future__ import annotations

import math

from workers.media.filtergraph import filter_spec

from .scene import ScenePlan
from .seeding import stable_digest

SAMPLE_RATE = 48000
# A pentatonic set of roots (Hz): the palette picks one.
ROOTS_HZ = (196.0, 220.0, 246.94, 293.66, 329.63, 392.0)
# Angular rate (rad/s at speed 1) of each kind of motion's main cycle in `motion.pose`.
MOTION_RATE = {
    "orbit": 0.9,
    "fall": 1.3,
    "rise": 1.3,
    "zoom": 2 * math.pi * 0.22,
    "bob": 3.0,
    "pulse": 4.0,
    "drift": 1.6,
}
FADE_S = 0.05  # fade in and out, so the track starts and ends without a click


def root_hz(plan: ScenePlan) -> float:
    return ROOTS_HZ[stable_digest("sound", plan.palette_name)[0] % len(ROOTS_HZ)]


def cycle_hz(plan: ScenePlan) -> float:
    """How many times a second the sound swells: the scene's motion cycle."""
    return plan.speed * MOTION_RATE.get(plan.motion, MOTION_RATE["drift"]) / (2 * math.pi)


def sound_source(plan: ScenePlan, *, duration_s: float, level: float) -> str:
    """The lavfi source (an ``aevalsrc`` filter, escaped) of the stereo track."""
    f, r = root_hz(plan), cycle_hz(plan)
    d = f"{duration_s:.6f}"
    fade = f"min(1,t/{FADE_S})*min(1,max(0,({d}-t))/{FADE_S})"
    tone = f"(sin(2*PI*{f:.3f}*t)+0.5*sin(2*PI*{1.5 * f:.3f}*t))"
    swell = f"(0.55+0.45*sin(2*PI*{r:.5f}*t))"
    amp = f"{0.25 * level:.4f}"
    left = f"{amp}*{fade}*{swell}*{tone}*(0.6+0.4*cos(2*PI*{r:.5f}*t))"
    right = f"{amp}*{fade}*{swell}*{tone}*(0.6-0.4*cos(2*PI*{r:.5f}*t))"
    return filter_spec("aevalsrc", exprs=f"{left}|{right}", s=SAMPLE_RATE, d=d)
