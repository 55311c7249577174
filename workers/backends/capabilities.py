"""What each model can be asked for, declared by its adapter from the vendor's published
definition, and the two questions the webapp asks of it:

- `check_entry`: is this catalog entry possible at all? (durations, sizes, aspect ratios,
  audio switch, parameters catalog data may not set) -> reasons it is not.
- `retirement`: has the vendor retired the model (since when, on whose word)?
- `unable_to_honour`: for a request (duration, aspect, sound, seed, negative prompt), which
  of the selected models cannot honour what -> {slug: [Shortfall]}. A blocking shortfall
  (retired, an aspect the model cannot make) means the model must not be asked; the others
  say how its clip will differ from the request (a nearby duration, no seed, ...).

Direct adapters (Runway, Luma, Kling, Veo, Sora) know their vendor's models; the generic
ones (fal, Replicate) host any model, so an entry declares what its model takes in its own
params (`input_fields`, `durations`, `sizes`, `audio`) with the host page as its source, and
the fakes hold those declarations to the host's published schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .registry import UnknownBackend, catalog_class

AUDIO_NONE = "none"  # the model makes silent video
AUDIO_OPTIONAL = "optional"  # a switch the adapter passes (generate_audio / audio / sound)
AUDIO_ALWAYS = "always"  # sound is always generated, no switch
AUDIO_UNKNOWN = "unknown"  # the vendor does not say: the media stage measures it
AUDIO_KINDS = (AUDIO_NONE, AUDIO_OPTIONAL, AUDIO_ALWAYS, AUDIO_UNKNOWN)

# Catalog params that would let whoever edits a model choose where keys go or which secret is
# sent (issue 12): endpoints and key variables are the adapter's or the operator's environment's.
FORBIDDEN_PARAMS = ("base_url", "api_key_env", "secret_key_env", "download_hosts")


class UnsupportedModel(ValueError):
    """The catalog names a model or a combination its adapter does not know."""


@dataclass(frozen=True)
class Retirement:
    since: str  # ISO date the vendor stopped serving it
    source: str  # where the vendor says so
    note: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What one vendor model accepts. `sizes` ("WxH") is set when the vendor takes exact frame
    sizes (Sora, Runway); otherwise only the aspect ratio travels."""

    durations: tuple[float, ...]
    aspect_ratios: tuple[str, ...]
    audio: str = AUDIO_NONE
    seed: bool = False
    negative_prompt: bool = False
    sizes: frozenset[str] | None = None
    retired: Retirement | None = None
    source: str = ""


def seconds_range(first: int, last: int) -> tuple[float, ...]:
    return tuple(float(s) for s in range(first, last + 1))


def size_text(size: Any) -> str:
    width, height = size
    return f"{int(width)}x{int(height)}"


def aspect_of(width: int, height: int) -> str:
    """The common name of a frame's aspect ratio ("16:9" for 1280x720 and 1792x1024 alike)."""
    ratio = width / height
    for name in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21"):
        a, b = (int(x) for x in name.split(":"))
        if abs(ratio - a / b) < 0.03:
            return name
    return f"{width}:{height}"


@dataclass(frozen=True)
class RequestedOptions:
    """What a person asked for on the prompt form / API."""

    duration_s: float
    aspect_ratio: str
    audio: bool | None = None  # True: wants sound, False: wants silence, None: no preference
    seed: bool = False  # an explicit seed was given
    negative_prompt: bool = False


def model_capabilities(backend_key: str, params: Mapping[str, Any]) -> Capabilities:
    """The capabilities of the model a catalog entry names; UnsupportedModel if there is none."""
    try:
        cls = catalog_class(backend_key)
    except UnknownBackend as exc:
        raise UnsupportedModel(str(exc)) from None
    return cls.capabilities(params)


def retirement(backend_key: str, params: Mapping[str, Any]) -> Retirement | None:
    """Since when and on whose word the vendor stopped serving this model (None: it serves it).
    Not a reason to refuse the entry: a retired model's page and clips stay as history."""
    try:
        return model_capabilities(backend_key, params).retired
    except UnsupportedModel:
        return None


def check_entry(
    backend_key: str, params: Mapping[str, Any], offered_durations: Iterable[float], offered_aspects: Iterable[str]
) -> list[str]:
    """Every reason this entry asks its vendor for something impossible (empty: fine).
    `offered_durations` / `offered_aspects`: what the entry lets people choose (its
    params["durations"] and supported_aspect_ratios)."""
    reasons = [
        f"backend_params may not set {name!r}: endpoints and key variables belong to the adapter "
        f"or the operator's environment"
        for name in FORBIDDEN_PARAMS
        if name in params
    ]
    try:
        caps = model_capabilities(backend_key, params)
    except UnsupportedModel as exc:
        return [*reasons, str(exc)]
    allowed = set(caps.durations)
    for seconds in offered_durations:
        if float(seconds) not in allowed:
            reasons.append(f"offers {float(seconds):g} s, the model takes {_seconds_list(caps.durations)}")
    sizes = params.get("sizes") or {}
    for aspect in offered_aspects:
        if aspect not in caps.aspect_ratios:
            reasons.append(f"offers aspect {aspect}, the model takes {', '.join(caps.aspect_ratios)}")
            continue
        if caps.sizes is not None:
            if aspect not in sizes:
                reasons.append(f"offers aspect {aspect} without a size in params['sizes']")
            elif size_text(sizes[aspect]) not in caps.sizes:
                reasons.append(
                    f"size {size_text(sizes[aspect])} for {aspect} is not one the model takes "
                    f"({', '.join(sorted(caps.sizes))})"
                )
    wants_audio = params.get("generate_audio")
    if wants_audio is not None and caps.audio != AUDIO_OPTIONAL:
        reasons.append(f"sets generate_audio but the model has no sound switch (sound: {caps.audio})")
    return reasons


@dataclass(frozen=True)
class Shortfall:
    message: str
    blocking: bool = False  # asking would fail or be pointless: refuse rather than queue

    def __str__(self) -> str:
        return self.message


def unable_to_honour(
    entries: Iterable[tuple[str, str, Mapping[str, Any]]], wish: RequestedOptions
) -> dict[str, list[Shortfall]]:
    """(slug, backend_key, params) for each selected model -> what it cannot honour (models
    that can honour everything are left out)."""
    verdicts: dict[str, list[Shortfall]] = {}
    for slug, backend_key, params in entries:
        try:
            caps = model_capabilities(backend_key, params)
        except UnsupportedModel as exc:
            verdicts[slug] = [Shortfall(str(exc), blocking=True)]
            continue
        verdicts[slug] = _shortfalls(caps, params, wish)
    return {slug: reasons for slug, reasons in verdicts.items() if reasons}


def _shortfalls(caps: Capabilities, params: Mapping[str, Any], wish: RequestedOptions) -> list[Shortfall]:
    reasons = []
    if caps.retired:
        reasons.append(Shortfall(f"retired by its vendor since {caps.retired.since}", blocking=True))
    offered = sorted(float(d) for d in params.get("durations") or caps.durations)
    if offered and float(wish.duration_s) not in offered:
        made = next((d for d in offered if d >= wish.duration_s - 1e-6), offered[-1])
        reasons.append(
            Shortfall(f"cannot make {wish.duration_s:g} s (takes {_seconds_list(offered)}): will make {made:g} s")
        )
    if wish.aspect_ratio not in caps.aspect_ratios:
        reasons.append(
            Shortfall(f"cannot make {wish.aspect_ratio} (takes {', '.join(caps.aspect_ratios)})", blocking=True)
        )
    if wish.audio is True and caps.audio == AUDIO_NONE:
        reasons.append(Shortfall("makes no sound"))
    if wish.audio is True and caps.audio == AUDIO_OPTIONAL and params.get("generate_audio") is False:
        reasons.append(Shortfall("its catalog entry turns sound off"))
    if wish.audio is False and caps.audio == AUDIO_ALWAYS:
        reasons.append(Shortfall("always adds sound"))
    if wish.audio is False and caps.audio == AUDIO_OPTIONAL and params.get("generate_audio") is True:
        reasons.append(Shortfall("its catalog entry turns sound on"))
    if wish.seed and not caps.seed:
        reasons.append(Shortfall("takes no seed: its results are not reproducible"))
    if wish.negative_prompt and not caps.negative_prompt:
        reasons.append(Shortfall("takes no negative prompt: it is not sent"))
    return reasons


def summary(backend_key: str, params: Mapping[str, Any], offered_aspects: Iterable[str] = ()) -> str:
    """What a model takes, in one line for people choosing models ("5, 9 s; 16:9, 9:16; sound").
    `offered_aspects`: the catalog entry's narrower choice, if it makes one."""
    try:
        caps = model_capabilities(backend_key, params)
    except UnsupportedModel:
        return ""
    durations = params.get("durations") or caps.durations
    aspects = [a for a in offered_aspects if a in caps.aspect_ratios] or list(caps.aspect_ratios)
    parts = [_seconds_list(durations), ", ".join(aspects)]
    sound = {AUDIO_OPTIONAL: "sound", AUDIO_ALWAYS: "sound", AUDIO_UNKNOWN: "sound unknown"}.get(caps.audio)
    if caps.audio == AUDIO_OPTIONAL and params.get("generate_audio") is False:
        sound = None
    parts += [sound] if sound else ["silent"]
    parts += [] if caps.seed else ["no seed"]
    parts += [] if caps.negative_prompt else ["no negative prompt"]
    if caps.retired:
        parts.insert(0, f"retired since {caps.retired.since}")
    return "; ".join(parts)


def _seconds_list(durations: Iterable[float]) -> str:
    values = sorted(set(float(d) for d in durations))
    if len(values) > 4 and values == [values[0] + i for i in range(len(values))]:
        return f"{values[0]:g}-{values[-1]:g} s"
    return ", ".join(f"{d:g}" for d in values) + " s"
