"""Provenance of a clip: what made it, when, with which settings, and the hashes of the
original as received and of the blind rendition. Shown on the clip page and written into the
metadata of the named original's download (never into the stored original, never into the
blind rendition; nor into an original carrying a C2PA manifest, which is downloaded as received
so its Content Credentials stay verifiable)."""

from __future__ import annotations

import json
from pathlib import Path

from webapp.core.storage import name_of

from .models import Clip

LABEL = "AI-generated"


def _iso(value):
    return value.isoformat() if value else None


def record(clip: Clip) -> dict:
    job, prompt, model = clip.job, clip.job.prompt, clip.job.model
    return {
        "label": LABEL,
        "clip": clip.public_id,
        "generator": {
            "model": model.slug,
            "model_name": model.display_name,
            "vendor": model.vendor,
            "backend": model.backend_key,
            "vendor_job_id": job.vendor_job_id or None,
            "procedural_demo": model.is_procedural_demo,
        },
        "timestamps": {
            "queued_at": _iso(job.queued_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "clip_created_at": _iso(clip.created_at),
        },
        "settings": {
            "prompt": prompt.text,
            "negative_prompt": prompt.negative_prompt,
            "seed": prompt.seed,
            "duration_s": prompt.duration_s,
            "aspect_ratio": prompt.aspect_ratio,
            "backend_params": model.backend_params,
        },
        "original": {"sha256": clip.sha256_original, "bytes": clip.original_bytes, "codec": clip.original_codec},
        "rendition": {
            "sha256": clip.sha256_web,
            "bytes": clip.bytes,
            "codec": clip.codec,
            "width": clip.width,
            "height": clip.height,
            "fps": clip.fps,
            "metadata": "stripped (blind rendition)",
        },
        "c2pa": {
            "checked": clip.c2pa_present is not None,
            "manifest_present": clip.c2pa_present,
            "summary": clip.c2pa_summary or None,
        },
    }


def download_name(clip: Clip) -> str:
    suffix = Path(name_of(clip.original)).suffix.lower() or ".mp4"
    return f"screentest-{clip.job.model.slug}-{clip.public_id}{suffix}"


def tagged_comment(clip: Clip) -> str:
    """The record as the tagged copy's `comment` tag (services/originals.py makes that copy on
    the media queue; an original with a C2PA manifest is downloaded as received instead, since
    re-muxing it would drop the vendor's signed Content Credentials)."""
    return json.dumps(record(clip), sort_keys=True, separators=(",", ":"))
