"""Anti-aliased drawing primitives on float32 H x W x 3 images (values 0..255, drawn in
place) and a box blur. Colours are float32 RGB arrays."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def col(c: Sequence[float] | np.ndarray) -> npt.NDArray[np.float32]:
    return np.asarray(c, dtype=np.float32)


def mix(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, f: float) -> npt.NDArray[np.float32]:
    return col(a) * np.float32(1 - f) + col(b) * np.float32(f)


def _bbox(img: np.ndarray, cx: float, cy: float, rx: float, ry: float):
    h, w = img.shape[:2]
    x0, x1 = max(int(cx - rx) - 1, 0), min(int(cx + rx) + 2, w)
    y0, y1 = max(int(cy - ry) - 1, 0), min(int(cy + ry) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return None
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - cx)
    ys = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - cy)
    return x0, x1, y0, y1, xs, ys


def _blend(img: np.ndarray, box, a: np.ndarray, color: np.ndarray, alpha: float = 1.0) -> None:
    """Blend `color` into the box's region with per-pixel coverage `a` times `alpha`."""
    if alpha != 1.0:
        a *= np.float32(alpha)
    x0, x1, y0, y1 = box[:4]
    region = img[y0:y1, x0:x1]
    region += (color - region) * a[..., None]


def draw_ellipse(img, cx, cy, rx, ry, color, *, angle=0.0, alpha=1.0) -> None:
    """Anti-aliased filled ellipse (sub-pixel centre), optionally rotated."""
    if rx < 0.3 or ry < 0.3 or alpha <= 0:
        return
    r = max(rx, ry)
    box = _bbox(img, cx, cy, r, r)
    if box is None:
        return
    xs, ys = box[4][None, :], box[5][:, None]
    if angle:
        c, s = np.float32(math.cos(angle)), np.float32(math.sin(angle))
        xs, ys = xs * c + ys * s, ys * c - xs * s
    d = np.sqrt((xs * np.float32(1 / rx)) ** 2 + (ys * np.float32(1 / ry)) ** 2)
    a = np.clip((1 - d) * np.float32(min(rx, ry)) + np.float32(0.5), 0, 1)
    _blend(img, box, a, color, alpha)


def draw_glow(img, cx, cy, radius, color, *, alpha=0.5) -> None:
    box = _bbox(img, cx, cy, radius, radius)
    if box is None:
        return
    d = np.sqrt(box[4][None, :] ** 2 + box[5][:, None] ** 2) * np.float32(1 / radius)
    a = np.clip(1 - d, 0, 1) ** 2 * np.float32(alpha)
    _blend(img, box, a, color)


def draw_ring(img, cx, cy, r, thickness, color, *, alpha=1.0) -> None:
    box = _bbox(img, cx, cy, r + thickness, r + thickness)
    if box is None:
        return
    d = np.sqrt(box[4][None, :] ** 2 + box[5][:, None] ** 2)
    a = np.clip(np.float32(thickness / 2 + 0.5) - np.abs(d - np.float32(r)), 0, 1)
    _blend(img, box, a, color, alpha)


def draw_box(img, cx, cy, hw, hh, color, *, angle=0.0, alpha=1.0) -> None:
    """Anti-aliased rotated rectangle (signed distance field)."""
    r = math.hypot(hw, hh)
    box = _bbox(img, cx, cy, r, r)
    if box is None:
        return
    xs, ys = box[4][None, :], box[5][:, None]
    c, s = np.float32(math.cos(angle)), np.float32(math.sin(angle))
    u, v = np.abs(xs * c + ys * s) - np.float32(hw), np.abs(ys * c - xs * s) - np.float32(hh)
    outside = np.sqrt(np.maximum(u, 0) ** 2 + np.maximum(v, 0) ** 2)
    dist = outside + np.minimum(np.maximum(u, v), 0)
    a = np.clip(np.float32(0.5) - dist, 0, 1)
    _blend(img, box, a, color, alpha)


def splat_points(img, xs, ys, radius, colors, alpha) -> None:
    """Draw many small anti-aliased dots at once (vectorised over points and pixel offsets).

    Where dots overlap, one of them wins the pixel (deterministically): fine for specks."""
    if len(xs) == 0:
        return
    h, w = img.shape[:2]
    reach = float(np.max(radius)) + 0.5
    offs = np.arange(math.floor(-reach - 0.5) + 1, math.ceil(reach + 0.5), dtype=np.int32)
    dy, dx = (o.ravel()[:, None] for o in np.meshgrid(offs, offs, indexing="ij"))
    ix = np.floor(xs).astype(np.int32)
    iy = np.floor(ys).astype(np.int32)
    px, py = ix + dx, iy + dy  # (offsets, points)
    fx = px + (np.float32(0.5) - xs)
    fy = py + (np.float32(0.5) - ys)
    a = np.clip(radius + np.float32(0.5) - np.sqrt(fx * fx + fy * fy), 0, 1) * alpha
    ok = (a > 0.004) & (px >= 0) & (px < w) & (py >= 0) & (py < h)
    qy, qx = py[ok], px[ok]
    qa = a[ok][:, None]
    qc = np.broadcast_to(colors[None], (len(offs) ** 2, *colors.shape))[ok]
    cur = img[qy, qx]
    img[qy, qx] = cur + (qc - cur) * qa


def box_blur(img: np.ndarray, radius: int) -> np.ndarray:
    """Separable box blur (2 * radius + 1 taps, edges clamped) by shifted adds: for the small
    radii used here that is cheaper than cumulative sums. Returns a new array."""
    if radius <= 0:
        return img
    k = 2 * radius + 1
    out = img
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0)] * img.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        index = [slice(None)] * img.ndim
        index[axis] = slice(0, n)
        acc = padded[tuple(index)].copy()
        for j in range(1, k):
            index[axis] = slice(j, j + n)
            acc += padded[tuple(index)]
        out = acc
    out *= np.float32(1 / (k * k))
    return out
