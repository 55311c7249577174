"""Frame sizes from catalog data: the only place that knows how a model's params and an aspect
ratio turn into pixels."""

from __future__ import annotations

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
DEFAULT_SIZE_16_9 = (512, 288)


def _even(value: float) -> int:
    return max(16, int(round(value / 2)) * 2)


def frame_size(params: dict, aspect_ratio: str) -> tuple[int, int]:
    """A model's catalog params may give an exact size per aspect ratio ("sizes"), else the
    16:9 base size is turned for 9:16 and squared (short side) for 1:1."""
    sizes = params.get("sizes") or {}
    if aspect_ratio in sizes:
        width, height = sizes[aspect_ratio]
        return int(width), int(height)
    width, height = params.get("base_width", DEFAULT_SIZE_16_9[0]), params.get("base_height", DEFAULT_SIZE_16_9[1])
    if aspect_ratio == "9:16":
        return _even(height), _even(width)
    if aspect_ratio == "1:1":
        return _even(min(width, height)), _even(min(width, height))
    return _even(width), _even(height)
