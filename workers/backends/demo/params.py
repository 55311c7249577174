"""The catalog params the demo backend understands (`request.params`), with their ranges.

Each field's default and valid range sit together; `parse_params` checks them in field order
and raises `PermanentError(code="invalid_params")` naming the offending param.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

from ..base import PermanentError

MIN_SIDE, MAX_SIDE = 16, 1920


def _param(default: float, lo: float, hi: float, *, lo_open: bool = False, integer: bool = False) -> Any:
    """A field whose value must lie in [lo, hi] ((lo, hi] when lo_open)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "lo_open": lo_open, "integer": integer})


@dataclass(frozen=True)
class DemoParams:
    fps: int = _param(24, 1, 60, integer=True)
    # The default request size the webapp picks for this model; validated here only.
    base_width: int = _param(512, MIN_SIDE, MAX_SIDE, integer=True)
    base_height: int = _param(288, MIN_SIDE, MAX_SIDE, integer=True)
    render_scale: float = _param(1.0, 0.1, 1.0)
    motion_smoothness: float = _param(1.0, 0.0, 1.0)
    flicker: float = _param(0.0, 0.0, 1.0)
    blur: float = _param(0.0, 0.0, 1.0)
    noise: float = _param(0.0, 0.0, 1.0)
    # Level of the procedural sound track (sound.py); 0: a silent model.
    sound: float = _param(0.0, 0.0, 1.0)
    latency_s: float = _param(0.0, 0.0, 3600.0)
    max_duration_s: float = _param(20.0, 0.0, 600.0, lo_open=True)
    render_timeout_s: float = _param(120.0, 0.0, 3600.0, lo_open=True)

    def visual(self) -> dict[str, Any]:
        """The params that decide the pixels (and so the vendor job id)."""
        return {
            "fps": self.fps,
            "render_scale": self.render_scale,
            "motion_smoothness": self.motion_smoothness,
            "flicker": self.flicker,
            "blur": self.blur,
            "noise": self.noise,
        }


def _invalid(message: str) -> PermanentError:
    return PermanentError(f"demo backend: {message}", code="invalid_params")


def _number(
    params: Mapping[str, Any], name: str, default: float, lo: float, hi: float, *, lo_open: bool, integer: bool
) -> Any:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _invalid(f"param {name!r} must be a number, got {value!r}")
    value = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not math.isfinite(value):
        raise _invalid(f"param {name!r} must be finite, got {value!r}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise _invalid(f"param {name!r} must be an integer, got {value!r}")
        value = int(value)
    too_low = value <= lo if lo_open else value < lo
    if too_low or value > hi:
        left = "(" if lo_open else "["
        raise _invalid(f"param {name!r} must be in {left}{lo:g}, {hi:g}], got {value!r}")
    return value if integer else float(value)


def parse_params(params: Mapping[str, Any]) -> DemoParams:
    """Validate the catalog params this backend uses. Unknown keys are ignored."""
    p = DemoParams(
        **{f.name: _number(params, f.name, cast(float, f.default), **f.metadata) for f in fields(DemoParams)}
    )
    for name in ("base_width", "base_height"):
        if getattr(p, name) % 2:
            raise _invalid(f"param {name!r} must be even")
    binary = params.get("ffmpeg_binary")
    if binary is not None and (not isinstance(binary, str) or not binary.strip()):
        raise _invalid("param 'ffmpeg_binary' must be a non-empty string")
    return p
