"""Capabilities of a model on a generic host (fal, Replicate), read from its catalog entry.

The host runs any model, so the entry declares what its model takes, as the model's page on
the host publishes it (cited in params["sources"]): `input_fields` (which of our settings the
model has an input for), `durations`, `sizes` (one per aspect ratio offered), `audio`. What an
entry cannot honestly offer follows from that: a model with no aspect-ratio input makes one
shape only (`output_aspect_ratio`, default 16:9), one with no duration input one length only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .capabilities import AUDIO_KINDS, AUDIO_OPTIONAL, AUDIO_UNKNOWN, Capabilities, UnsupportedModel

DEFAULT_INPUT_FIELDS = ("prompt", "duration", "aspect_ratio")


def input_field_names(params: Mapping[str, Any]) -> set[str]:
    fields = params.get("input_fields", DEFAULT_INPUT_FIELDS)
    return set(fields) if not isinstance(fields, Mapping) else set(fields.keys())


def hosted_capabilities(params: Mapping[str, Any], *, host: str) -> Capabilities:
    fields = input_field_names(params)
    durations = tuple(float(d) for d in params.get("durations") or ())
    if not durations:
        raise UnsupportedModel(f"a {host} entry must list the durations its model makes (params['durations'])")
    if "duration" not in fields and len(durations) > 1:
        raise UnsupportedModel(f"the {host} model takes no duration input, yet the entry offers {list(durations)}")
    if params.get("duration_format") == "frames":
        frame_rate = params.get("frames_per_second")
        if not isinstance(frame_rate, int) or isinstance(frame_rate, bool) or frame_rate <= 0:
            raise UnsupportedModel(
                "duration_format 'frames' needs params['frames_per_second'] (an integer) to count frames"
            )
    sizes = params.get("sizes") or {}
    if "aspect_ratio" in fields:
        aspects = tuple(sizes)
    else:
        aspects = (str(params.get("output_aspect_ratio", "16:9")),)
    audio = str(params.get("audio", AUDIO_UNKNOWN))
    if audio not in AUDIO_KINDS:
        raise UnsupportedModel(f"params['audio'] must be one of {AUDIO_KINDS}, not {audio!r}")
    if ("audio" in fields) != (audio == AUDIO_OPTIONAL):
        raise UnsupportedModel("an audio input field and params['audio'] == 'optional' go together")
    sources = params.get("sources") or {}
    return Capabilities(
        durations=durations,
        aspect_ratios=aspects,
        audio=audio,
        seed="seed" in fields,
        negative_prompt="negative_prompt" in fields,
        source="; ".join(f"{k}: {v}" for k, v in sources.items()) if isinstance(sources, Mapping) else str(sources),
    )
