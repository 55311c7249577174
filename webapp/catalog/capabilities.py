"""What catalog models can be asked for, in the webapp's terms: the adapters' declarations
(workers/backends/capabilities.py) applied to VideoModel rows."""

from __future__ import annotations

from collections.abc import Iterable

from workers.backends import capabilities
from workers.backends.capabilities import RequestedOptions, Retirement, Shortfall

from .models import VideoModel

__all__ = ["RequestedOptions", "Retirement", "Shortfall", "declared_sound", "retirement", "shortfalls", "summary"]


def retirement(model: VideoModel) -> Retirement | None:
    return capabilities.retirement(model.backend_key, model.backend_params or {}) if model.backend_key else None


def declared_sound(model: VideoModel) -> str:
    """What the model's adapter declares of its sound, with the catalog's switch applied
    ("" when it has no adapter: imported votes only)."""
    if not model.backend_key:
        return ""
    params = model.backend_params or {}
    try:
        kind = capabilities.model_capabilities(model.backend_key, params).audio
    except capabilities.UnsupportedModel:
        return ""
    if kind == capabilities.AUDIO_OPTIONAL:
        switch = params.get("generate_audio")
        if switch is None:
            return "sound switch left to the vendor"
        return "sound (switch on)" if switch else "silent (switch off)"
    return {
        capabilities.AUDIO_ALWAYS: "always with sound",
        capabilities.AUDIO_NONE: "silent",
        capabilities.AUDIO_UNKNOWN: "not stated by the vendor",
    }.get(kind, "")


def summary(model: VideoModel) -> str:
    """What the model takes ("5, 9 s; 16:9, 9:16; silent; no seed"), within the entry's limits."""
    params = dict(model.backend_params or {})
    if "durations" not in params:
        try:
            takes = capabilities.model_capabilities(model.backend_key, params).durations
        except capabilities.UnsupportedModel:
            return ""
        params["durations"] = [d for d in takes if d <= model.max_duration_s]
    return capabilities.summary(model.backend_key, params, model.supported_aspect_ratios or [])


def shortfalls(models: Iterable[VideoModel], wish: RequestedOptions) -> dict[VideoModel, list[Shortfall]]:
    """Each model that cannot honour all of `wish`, with what it cannot honour."""
    chosen = {m.slug: m for m in models if m.backend_key}
    found = capabilities.unable_to_honour(((s, m.backend_key, m.backend_params or {}) for s, m in chosen.items()), wish)
    return {chosen[slug]: reasons for slug, reasons in found.items()}
