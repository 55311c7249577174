"""Where things are at a given time: per-frame camera imperfections (`FrameMotion`) and the
paths objects follow for each kind of motion (`Mover`, `pose`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class FrameMotion:
    """One output frame's scene time `t` and the camera imperfections motion_smoothness
    adds: shake (`jx`, `jy` pixels) and positions snapped to a grid of `quantum` pixels."""

    t: float
    jx: float = 0.0
    jy: float = 0.0
    quantum: float = 0.0

    def place(self, x, y):
        """Apply shake and snapping to positions (floats or arrays)."""
        x = x + self.jx
        y = y + self.jy
        if self.quantum >= 1.0:
            q = self.quantum
            if isinstance(x, np.ndarray):
                x = np.round(x / q) * q
                y = np.round(y / q) * q
            else:
                x, y = round(x / q) * q, round(y / q) * q
        return x, y


@dataclass
class Mover:
    """One object's path parameters; `pose` turns time into position/scale/angle/alpha."""

    ax: float  # anchor, fractions of the frame
    ay: float
    phase: float
    rate: float  # relative angular/linear rate, ~0.6..1.4
    direction: int  # +1 / -1
    orbit_r: float  # orbit radius, fraction of frame height


def random_mover(rng: np.random.Generator, ax=None, ay=None, orbit_r=None) -> Mover:
    """A mover with random path parameters, except those given."""
    return Mover(
        ax=float(rng.uniform(0.1, 0.9)) if ax is None else ax,
        ay=float(rng.uniform(0.15, 0.85)) if ay is None else ay,
        phase=float(rng.uniform(0, 2 * math.pi)),
        rate=float(rng.uniform(0.7, 1.3)),
        direction=1 if rng.random() < 0.5 else -1,
        orbit_r=float(rng.uniform(0.12, 0.42)) if orbit_r is None else orbit_r,
    )


def pose(kind: str, speed: float, m: Mover, t: float, w: int, h: int, size: float):
    """-> x, y, scale, angle, alpha in render pixels."""
    u = min(w, h)
    k = speed * m.rate
    angle = 0.0
    scale = 1.0
    alpha = 1.0
    if kind == "orbit":
        a = m.phase + m.direction * k * 0.9 * t
        x = w / 2 + math.cos(a) * m.orbit_r * u * 1.35
        y = h / 2 + math.sin(a) * m.orbit_r * u * 0.75
        angle = a * 1.5
    elif kind == "fall" or kind == "rise":
        span = h + 2 * size
        dy = k * 0.22 * u * t * (1 if kind == "fall" else -1)
        y = (m.ay * span + dy) % span - size
        x = m.ax * w + math.sin(m.phase + k * 1.3 * t) * 0.04 * u
        angle = m.direction * k * 0.8 * t
    elif kind == "zoom":
        p = (m.phase / (2 * math.pi) + k * 0.22 * t) % 1.0
        scale = 0.35 + 2.2 * p * p
        dx, dy = (m.ax - 0.5) * w, (m.ay - 0.5) * h
        x, y = w / 2 + dx * scale * 1.2, h / 2 + dy * scale * 1.2
        alpha = min(1.0, math.sin(math.pi * p) * 2.0)
        angle = m.direction * k * 0.3 * t
    elif kind == "bob":
        x = m.ax * w + math.sin(m.phase * 0.7 + k * 0.5 * t) * 0.06 * u
        y = m.ay * h + math.sin(m.phase + k * 3.0 * t) * 0.09 * u
        angle = math.sin(m.phase + k * 3.0 * t) * 0.35
    elif kind == "pulse":
        x = m.ax * w + math.sin(m.phase + k * 0.4 * t) * 0.03 * u
        y = m.ay * h + math.cos(m.phase + k * 0.3 * t) * 0.03 * u
        scale = 1.0 + 0.3 * math.sin(m.phase + k * 4.0 * t)
    else:  # drift
        span = w + 2 * size
        x = (m.ax * span + m.direction * k * 0.28 * u * t) % span - size
        y = m.ay * h + math.sin(m.phase + k * 1.6 * t) * 0.035 * u
        angle = m.direction * k * 0.5 * t
    return x, y, scale, angle, alpha
