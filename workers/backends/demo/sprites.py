"""Drawers for single objects (sun, moon, ball, simple shapes, animals).

Each takes (img, x, y, r, angle, alpha, t, it): centre and size in render pixels from
`motion.pose`, the scene time, and the object's dict `it` (colours, shape, facing, gait, ...)
built by `compose.build_scene`.
"""

from __future__ import annotations

import math

from .drawing import draw_box, draw_ellipse, draw_glow, draw_ring


def draw_sun(img, x, y, r, angle, alpha, t, it):
    draw_glow(img, x, y, r * 2.6, it["glow"], alpha=0.45 * alpha)
    draw_ellipse(img, x, y, r, r, it["color"], alpha=alpha)


def draw_moon(img, x, y, r, angle, alpha, t, it):
    draw_glow(img, x, y, r * 2.0, it["color"], alpha=0.2 * alpha)
    draw_ellipse(img, x, y, r, r, it["color"], alpha=alpha)
    draw_ellipse(img, x - r * 0.3, y - r * 0.2, r * 0.22, r * 0.22, it["shade"], alpha=0.5 * alpha)
    draw_ellipse(img, x + r * 0.35, y + r * 0.3, r * 0.15, r * 0.15, it["shade"], alpha=0.5 * alpha)


def draw_ball(img, x, y, r, angle, alpha, t, it):
    draw_ellipse(img, x, y, r, r, it["color"], alpha=alpha)
    hx, hy = x - r * 0.35 * math.cos(angle * 0.2), y - r * 0.35
    draw_ellipse(img, hx, hy, r * 0.3, r * 0.3, it["light"], alpha=0.55 * alpha)
    if it.get("ringed"):
        draw_ellipse(img, x, y, r * 1.9, r * 0.35, it["light"], angle=0.3, alpha=0.35 * alpha)


def draw_shape(img, x, y, r, angle, alpha, t, it):
    shape = it["shape"]
    if shape == "disc":
        draw_ellipse(img, x, y, r, r, it["color"], alpha=alpha)
    elif shape == "ring":
        draw_ring(img, x, y, r, max(2.0, r * 0.28), it["color"], alpha=alpha)
    elif shape == "box":
        draw_box(img, x, y, r * 0.9, r * 0.9, it["color"], angle=angle, alpha=alpha)
    else:  # bar
        draw_box(img, x, y, r * 1.5, r * 0.4, it["color"], angle=angle, alpha=alpha)


def draw_quadruped(img, x, y, r, angle, alpha, t, it):
    d = it["facing"]
    c, dark = it["color"], it["dark"]
    stride = math.sin(t * 9.0 * it["gait"])
    bob = abs(stride) * r * 0.06
    y = y - bob
    for i, lx in enumerate((-0.6, -0.3, 0.35, 0.65)):
        swing = stride if i % 2 else -stride
        draw_ellipse(img, x + (lx + 0.12 * swing) * r * d, y + 0.62 * r, r * 0.11, r * 0.3, dark, alpha=alpha)
    draw_ellipse(img, x - 1.05 * r * d, y - 0.25 * r, r * 0.38, r * 0.09, c, angle=-0.7 * d + 0.3 * stride, alpha=alpha)
    draw_ellipse(img, x, y, r, r * 0.5, c, alpha=alpha)
    hx, hy = x + 0.95 * r * d, y - 0.45 * r
    draw_ellipse(img, hx - 0.18 * r, hy - 0.36 * r, r * 0.12, r * 0.2, dark, alpha=alpha)
    draw_ellipse(img, hx + 0.18 * r, hy - 0.36 * r, r * 0.12, r * 0.2, dark, alpha=alpha)
    draw_ellipse(img, hx, hy, r * 0.4, r * 0.36, c, alpha=alpha)
    draw_ellipse(img, hx + 0.16 * r * d, hy - 0.06 * r, r * 0.06, r * 0.06, it["eye"], alpha=alpha)


def draw_bird(img, x, y, r, angle, alpha, t, it):
    d = it["facing"]
    flap = math.sin(t * 11.0 * it["gait"] + it["mover"].phase)
    c, dark = it["color"], it["dark"]
    wing_h = r * (0.15 + 0.55 * abs(flap))
    wy = y - r * 0.35 * flap
    draw_ellipse(img, x - 0.15 * r * d, wy, r * 0.75, wing_h, dark, angle=-0.35 * flap * d, alpha=alpha)
    draw_ellipse(img, x, y, r * 0.75, r * 0.32, c, alpha=alpha)
    draw_ellipse(img, x + 0.7 * r * d, y - 0.12 * r, r * 0.26, r * 0.24, c, alpha=alpha)
    draw_ellipse(img, x + 0.98 * r * d, y - 0.1 * r, r * 0.14, r * 0.06, it["beak"], alpha=alpha)


def draw_fish(img, x, y, r, angle, alpha, t, it):
    d = it["facing"]
    wig = math.sin(t * 8.0 * it["gait"] + it["mover"].phase)
    draw_ellipse(img, x - 0.95 * r * d, y, r * 0.4, r * 0.34, it["dark"], angle=0.5 * wig, alpha=alpha)
    draw_ellipse(img, x, y, r, r * 0.48, it["color"], angle=0.08 * wig, alpha=alpha)
    draw_ellipse(img, x + 0.55 * r * d, y - 0.12 * r, r * 0.09, r * 0.09, it["eye"], alpha=alpha)


ANIMAL_DRAWERS = {"quadruped": draw_quadruped, "bird": draw_bird, "fish": draw_fish}
