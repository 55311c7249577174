"""`ScenePlan` + seeded rng -> `Scene`: which layers and objects a plan gets, with their
sizes, colours and paths, all precomputed once per request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .drawing import col, mix
from .layers import Background, Layer, Objects, Particles, Skyline, Waves
from .motion import FrameMotion, random_mover
from .scene import ANIMAL_KINDS, PARTICLE_KINDS, ScenePlan
from .sprites import ANIMAL_DRAWERS, draw_ball, draw_moon, draw_shape, draw_sun


@dataclass
class Scene:
    layers: list[Layer]

    def render(self, img: np.ndarray, fr: FrameMotion) -> None:
        for layer in self.layers:
            layer.draw(img, fr)


def build_scene(plan: ScenePlan, w: int, h: int, rng: np.random.Generator) -> Scene:
    """Precompute everything per request; `Scene.render` then only draws.

    The order of the rng draws below decides the picture: keep it when editing."""
    pal = plan.palette
    accents = pal.accents
    u = min(w, h)
    content = set(plan.content)
    layers: list[Layer] = [Background(pal, h, rng, plan.speed)]

    def accent(i: int) -> np.ndarray:
        c = col(accents[i % len(accents)])
        return np.clip(c * np.float32(rng.uniform(0.88, 1.1)), 0, 255)

    def particles(style: str) -> Particles:
        return Particles(style, pal, w, h, rng, plan.speed, plan.motion)

    if "stars" in content:
        layers.append(particles("stars"))

    sky: list[dict[str, Any]] = []
    lit = plan.palette_name.split("+")[0] in ("night", "neon", "black") or "stars" in content
    # Sun and moon hang in the sky and glow when the prompt's motion would carry them away.
    still = {"motion": "pulse"} if plan.motion in ("drift", "fall", "rise") else {}
    if "sun" in content:
        sun_color = mix((255, 222, 110), (255, 150, 60), float(rng.uniform(0, 0.4)))
        sky.append(
            {
                "draw": draw_sun,
                "size": u * float(rng.uniform(0.13, 0.18)),
                "color": sun_color,
                "glow": mix(sun_color, (255, 120, 40), 0.4),
                "mover": random_mover(
                    rng, ax=float(rng.uniform(0.3, 0.7)), ay=float(rng.uniform(0.25, 0.4)), orbit_r=0.0
                ),
                **still,
            }
        )
    if "moon" in content:
        sky.append(
            {
                "draw": draw_moon,
                "size": u * float(rng.uniform(0.09, 0.13)),
                "color": col((232, 232, 215)),
                "shade": col((190, 190, 175)),
                "mover": random_mover(rng, ay=float(rng.uniform(0.18, 0.32)), orbit_r=0.05),
                **still,
            }
        )
    if "disc" in content:
        for i in range(int(rng.integers(2, 5))):
            color = accent(i)
            sky.append(
                {
                    "draw": draw_ball,
                    "size": u * float(rng.uniform(0.07, 0.14)),
                    "color": color,
                    "light": mix(color, (255, 255, 255), 0.55),
                    "ringed": bool(rng.random() < 0.3),
                    "mover": random_mover(rng, orbit_r=float(rng.uniform(0.15, 0.45))),
                }
            )
    if sky:
        layers.append(Objects(sky, plan.motion, plan.speed, w, h))

    if "skyline" in content:
        layers.append(Skyline(pal, w, h, rng, plan.speed, lit))
    if "waves" in content:
        top = 0.62 if ("skyline" in content or "sun" in content) else 0.5
        layers.append(Waves(pal, w, h, rng, plan.speed, top))

    things: list[dict[str, Any]] = []
    animal_kinds = [k for k in ANIMAL_KINDS if k in content]
    per_kind = 4 if len(animal_kinds) == 1 else 3 if len(animal_kinds) == 2 else 2
    for kind in animal_kinds:
        for i in range(int(rng.integers(1, per_kind))):
            color = accent(i + 1)
            # Four-legged animals keep to the ground.
            mover = random_mover(rng, ay=float(rng.uniform(0.62, 0.8))) if kind == "quadruped" else random_mover(rng)
            things.append(
                {
                    "draw": ANIMAL_DRAWERS[kind],
                    "size": u * float(rng.uniform(0.09, 0.15)),
                    "color": color,
                    "dark": color * np.float32(0.6),
                    "eye": col((20, 20, 25)),
                    "beak": col((250, 170, 40)),
                    "facing": mover.direction,
                    "gait": float(rng.uniform(0.8, 1.2)) * math.sqrt(plan.speed),
                    "mover": mover,
                }
            )
    if "shapes" in content or (
        not sky and not things and not (content & {"skyline", "waves"}) and not (content & set(PARTICLE_KINDS))
    ):
        for i in range(int(rng.integers(4, 8))):
            things.append(
                {
                    "draw": draw_shape,
                    "shape": ("disc", "ring", "box", "bar")[int(rng.integers(0, 4))],
                    "size": u * float(rng.uniform(0.05, 0.13)),
                    "color": accent(i),
                    "mover": random_mover(rng),
                }
            )
    if things:
        layers.append(Objects(things, plan.motion, plan.speed, w, h))

    for style in PARTICLE_KINDS[1:]:  # "stars" went in first, behind everything
        if style in content:
            layers.append(particles(style))
    return Scene(layers)
