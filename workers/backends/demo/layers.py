"""The layers a scene is drawn with, back to front: a gradient background, objects following
the prompt's motion, a scrolling skyline, waves and particle fields. Each precomputes what it
can in __init__ (once per request) and draws one frame in `draw`."""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from .drawing import col, mix, splat_points
from .motion import FrameMotion, pose
from .scene import Palette


class Layer(Protocol):
    def draw(self, img: np.ndarray, fr: FrameMotion) -> None: ...


class Background:
    """Vertical gradient whose colours breathe slowly; filled as one broadcast row copy."""

    def __init__(self, pal: Palette, h: int, rng: np.random.Generator, speed: float):
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None] ** np.float32(1.2)
        top, bottom = col(pal.top), col(pal.bottom)
        self.base = (top + (bottom - top) * ramp)[:, None, :]  # (h, 1, 3)
        bump = np.sin(ramp * np.float32(math.pi))[:, :, None]  # (h, 1, 1)
        self.tint = (col(pal.accents[0]) - self.base) * np.float32(0.12) * bump
        self.phase = float(rng.uniform(0, 2 * math.pi))
        self.rate = 0.5 * speed

    def draw(self, img, fr):
        img[:] = self.base + self.tint * np.float32(math.sin(self.phase + self.rate * fr.t))


class Objects:
    """Discs, shapes and animals following the prompt's motion."""

    def __init__(self, items: list[dict[str, Any]], motion: str, speed: float, w: int, h: int):
        self.items, self.motion, self.speed, self.w, self.h = items, motion, speed, w, h

    def draw(self, img, fr):
        for it in self.items:
            x, y, scale, angle, alpha = pose(
                it.get("motion", self.motion), self.speed, it["mover"], fr.t, self.w, self.h, it["size"]
            )
            x, y = fr.place(x, y)
            it["draw"](img, x, y, it["size"] * scale, angle, alpha, fr.t, it)


class Skyline:
    """Two parallax rows of buildings, precomputed once as periodic strips and scrolled."""

    def __init__(self, pal: Palette, w: int, h: int, rng: np.random.Generator, speed: float, lit: bool):
        self.w, self.h, self.speed = w, h, speed
        self.layers = []
        base_dark = col(pal.top) * np.float32(0.35)
        for depth, (height, shade, rate) in enumerate(((0.55, 0.55, 0.05), (0.42, 1.0, 0.12))):
            period = 2 * w
            y0 = int(h * (1 - height))
            rows = h - y0
            alpha = np.zeros((rows, period), np.float32)
            color = np.zeros((rows, period, 3), np.float32)
            body = base_dark if depth else mix(base_dark, pal.bottom, 0.45)
            win = mix(pal.accents[-1], (255, 230, 140), 0.5) if lit else col(pal.accents[0])
            cell = max(3, w // 70)
            lit_p = 0.55 if lit else 0.25
            # Lay the buildings out in fractions of the width first, so the same prompt and
            # seed give the same skyline at every render scale.
            buildings: list[tuple[float, float, float, int]] = []
            fx = 0.0
            while fx < 2.0:
                bw_f = rng.uniform(1 / 22, 1 / 8)
                bh_f = rng.uniform(0.35, 1.0)
                gap_f = rng.uniform(0, 1 / 40)
                buildings.append((fx, bw_f, bh_f, int(rng.integers(0, 2**63))))
                fx += bw_f + gap_f
            for fx, bw_f, bh_f, win_seed in buildings:
                x = int(round(fx * w))
                if x >= period:
                    break
                x1 = min(max(x + 2, int(round((fx + bw_f) * w))), period)
                bw, bh = x1 - x, max(2, int(rows * bh_f))
                top = rows - bh
                alpha[top:, x:x1] = 1.0
                color[top:, x:x1] = body
                # Windows: a grid of cells inside the facade, a random subset lit.
                ly = np.arange(bh)[:, None]
                lx = np.arange(bw)[None, :]
                win_rng = np.random.Generator(np.random.PCG64(win_seed))
                cells_on = win_rng.random((bh // (2 * cell) + 1, bw // cell + 1)) < lit_p
                wm = (
                    ((ly % (2 * cell)) < cell)
                    & ((lx % cell) < max(1, cell // 2))
                    & (ly > cell)
                    & (lx > 0)
                    & (lx < bw - 1)
                    & cells_on[ly // (2 * cell), lx // cell]
                )
                color[top:, x:x1][wm] = win * np.float32(shade * 0.85 + 0.15)
            strip_a = np.concatenate([alpha, alpha[:, : w + 1]], axis=1)
            strip_c = np.concatenate([color, color[:, : w + 1]], axis=1) * strip_a[..., None]
            self.layers.append((y0, period, rate, strip_a, strip_c))

    def draw(self, img, fr):
        u = min(self.w, self.h)
        for y0, period, rate, strip_a, strip_c in self.layers:
            off = self.speed * rate * u * fr.t * 4 + fr.jx
            if fr.quantum >= 1:
                off = round(off / fr.quantum) * fr.quantum
            i = int(math.floor(off)) % period
            f = np.float32(off - math.floor(off))
            a = strip_a[:, i : i + self.w] * (1 - f) + strip_a[:, i + 1 : i + self.w + 1] * f
            c = strip_c[:, i : i + self.w] * (1 - f) + strip_c[:, i + 1 : i + self.w + 1] * f
            region = img[y0:]
            region *= (1 - a)[..., None]
            region += c


class Waves:
    """Sine bands across the lower part of the frame."""

    def __init__(self, pal: Palette, w: int, h: int, rng: np.random.Generator, speed: float, top_frac: float):
        self.w, self.h, self.speed = w, h, speed
        n = 4
        u = min(w, h)
        self.bands = []
        for k in range(n):
            base = h * (top_frac + (1 - top_frac) * (k / n) * 0.85)
            amp = u * (0.018 + 0.012 * k) * float(rng.uniform(0.8, 1.3))
            wn = 2 * math.pi / (w * float(rng.uniform(0.35, 0.7))) * (1 + 0.25 * k)
            omega = float(rng.uniform(1.2, 2.0)) * (1 + 0.3 * k) * (1 if k % 2 == 0 else -0.8)
            water = mix((25, 120, 175), pal.accents[0], 0.3)
            color = mix(water, col(pal.top) * 0.4, k / n * 0.85)
            self.bands.append((base, amp, wn, omega, float(rng.uniform(0, 6.283)), color))
        self.y0 = max(0, int(min(b[0] - 2.2 * b[1] for b in self.bands)) - 1)
        self.yy = (np.arange(self.y0, h, dtype=np.float32) + np.float32(0.5))[:, None]
        self.xx = np.arange(w, dtype=np.float32) + np.float32(0.5)

    def draw(self, img, fr):
        t = fr.t * self.speed
        xx = self.xx + np.float32(fr.jx)
        h = self.h
        f32 = np.float32
        for base, amp, wn, omega, ph, color in self.bands:
            arg = xx * f32(wn) + f32(omega * t + ph)
            ripple = np.sin(arg * f32(2.3) + f32(ph - 1.7 * omega * t))
            curve = f32(base + fr.jy) + f32(amp) * np.sin(arg) + f32(amp * 0.45) * ripple
            if fr.quantum >= 1:
                curve = np.round(curve / fr.quantum) * fr.quantum
            # Only the rows the crest passes through need blending; below it is solid.
            lo = min(max(int(math.floor(float(curve.min()))) - 1, self.y0), h)
            hi = min(max(int(math.ceil(float(curve.max()))) + 1, lo), h)
            if hi > lo:
                rows = self.yy[lo - self.y0 : hi - self.y0]
                a = np.clip(rows - curve[None, :] + np.float32(0.5), 0, 1)
                region = img[lo:hi]
                region += (color - region) * a[..., None]
            img[hi:] = color


# style -> (number of particles, base radius in pixels at 288 px)
_PARTICLE_STYLES = {
    "stars": (150, 0.9),
    "snow": (170, 1.8),
    "rain": (160, 0.7),
    "sparkles": (60, 1.5),
    "confetti": (130, 1.6),
    "embers": (90, 1.1),
}


class Particles:
    """A field of small dots (stars, snow, rain streaks, sparkles, confetti, embers)."""

    def __init__(self, style: str, pal: Palette, w: int, h: int, rng: np.random.Generator, speed: float, motion: str):
        self.style, self.w, self.h, self.speed, self.motion = style, w, h, speed, motion
        n, base_r = _PARTICLE_STYLES[style]
        u = min(w, h)
        self.x0 = rng.uniform(0, 1, n).astype(np.float32)
        self.y0 = rng.uniform(0, 1, n).astype(np.float32)
        self.ph = rng.uniform(0, 2 * math.pi, n).astype(np.float32)
        self.rate = rng.uniform(0.6, 1.4, n).astype(np.float32)
        self.radius = (rng.uniform(0.6, 1.4, n) * base_r * max(0.6, u / 288)).astype(np.float32)
        if style == "stars":
            self.y0 *= np.float32(0.8)  # sky only (unless the whole sky moves)
        accents = np.array(pal.accents, np.float32)
        if style == "confetti":
            self.colors = accents[rng.integers(0, len(accents), n)]
        elif style == "rain":
            self.colors = np.tile(mix((200, 215, 240), pal.accents[0], 0.15), (n, 1))
        elif style == "embers":
            self.colors = np.tile(col((255, 170, 60)), (n, 1))
        elif style == "sparkles":
            self.colors = np.tile(mix((255, 245, 170), pal.accents[0], 0.35), (n, 1))
        else:
            self.colors = np.tile(mix((250, 250, 255), pal.accents[0], 0.1), (n, 1))
        self.u = u

    def _osc(self, freq: float, t: float, *, cos: bool = False) -> np.ndarray:
        """Per-particle oscillation: sin (or cos) of phase + rate * freq * t, float32."""
        arg = self.ph + self.rate * np.float32(freq * t)
        return np.cos(arg) if cos else np.sin(arg)

    def draw(self, img, fr):
        w, h, u, t, s = self.w, self.h, self.u, fr.t, self.speed
        f32 = np.float32
        style = self.style
        alpha = np.ones_like(self.x0)
        radius = self.radius
        if style == "stars" and self.motion in ("zoom", "orbit"):
            # Warp (stars stream out of the centre) or a slowly turning sky.
            reach = f32(math.hypot(w, h) / 2)
            if self.motion == "zoom":
                depth = (self.y0 + self.rate * f32(0.3 * s * t)) % f32(1)
                dist, ang = depth * depth * reach, self.ph
                alpha = np.minimum(depth * f32(3), f32(1))
                radius = self.radius * (f32(0.5) + f32(1.5) * depth)
            else:
                dist = np.sqrt(self.y0) * reach
                ang = self.ph + f32(0.5 * s * t) / (f32(0.5) + self.y0)
                alpha = f32(0.6) + f32(0.4) * self._osc(3, t)
            xs = f32(w / 2) + np.cos(ang) * dist
            ys = f32(h / 2) + np.sin(ang) * dist * f32(0.8)
        elif style == "stars":
            xs = (self.x0 * w + f32(s * 0.02 * u * t)) % w
            ys = self.y0 * h
            alpha = f32(0.55) + f32(0.45) * self._osc(3 * s, t)
        elif style in ("snow", "confetti"):
            v = self.rate * f32(0.18 * u * s * (1.3 if style == "confetti" else 1.0))
            ys = (self.y0 * (h + 8) + v * f32(t)) % (h + 8) - 4
            xs = (self.x0 * w + f32(0.03 * u) * self._osc(1.5, t)) % w
        elif style == "embers":
            v = self.rate * f32(0.25 * u * s)
            ys = h + 4 - (self.y0 * (h + 8) + v * f32(t)) % (h + 8)
            xs = (self.x0 * w + f32(0.04 * u) * self._osc(2.0, t)) % w
            alpha = np.clip(ys / f32(h), 0.15, 1.0)
        elif style == "sparkles":
            xs = self.x0 * w + f32(0.08 * u) * self._osc(0.9 * s, t)
            ys = self.y0 * h + f32(0.06 * u) * self._osc(1.1 * s, t, cos=True)
            alpha = f32(0.5) + f32(0.5) * self._osc(5, t)
        else:  # rain
            v = self.rate * f32(1.6 * u * s + 0.4 * u)
            ys = (self.y0 * (h + 20) + v * f32(t)) % (h + 20) - 10
            xs = (self.x0 * w - ys * f32(0.12)) % w
        xs, ys = fr.place(xs, ys)
        xs = xs.astype(f32, copy=False)
        ys = ys.astype(f32, copy=False)
        alpha = alpha.astype(f32, copy=False)
        if style == "rain":  # streaks: four fading dots per drop, drawn in one call
            step = f32(max(1.5, u / 120))
            j = np.arange(4, dtype=f32)[:, None]
            splat_points(
                img,
                (xs + f32(0.12) * step * j).ravel(),
                (ys - step * j).ravel(),
                np.tile(self.radius, 4),
                np.tile(self.colors, (4, 1)),
                (alpha * (f32(0.7) - f32(0.15) * j)).ravel(),
            )
        else:
            splat_points(img, xs, ys, radius, self.colors, alpha)
