"""Rows -> JSON-ready dicts for the API (and anything else that exports prompts)."""

from __future__ import annotations

from django.urls import reverse

from webapp.core.storage import name_of
from webapp.policy.states import ModerationState

from .models import Clip, GenerationJob, JobState, Prompt
from .services.submission import notices

MODERATION_MESSAGES: dict[str, str] = {
    ModerationState.ALLOWED: "",
    ModerationState.HELD: "This prompt awaits review by a moderator; nothing is generated before it is approved.",
    ModerationState.REJECTED: "A moderator rejected this prompt; its videos were removed.",
}


def media_url(name: str) -> str:
    return reverse("studio:media", args=[name])


def clip_dict(clip: Clip) -> dict:
    return {
        "id": clip.public_id,
        "url": media_url(name_of(clip.web)),
        "poster_url": media_url(name_of(clip.poster)),
        "duration_s": round(clip.duration_s, 3),
        "width": clip.width,
        "height": clip.height,
        "fps": round(clip.fps, 3),
        "codec": clip.codec,
        "bytes": clip.bytes,
        "sha256": clip.sha256_web,
        "sha256_original": clip.sha256_original,
        "has_audio": clip.has_audio,
        "audio": clip.audio,
    }


def request_notes(job: GenerationJob) -> list[str]:
    """How this model's clip differs from what the prompt asked (e.g. "cannot make 4 s (takes
    5, 9 s): will make 5 s"); empty when it can honour all of it."""
    return [str(note) for note in notices(job.prompt, [job.model]).get(job.model, [])]


def job_dict(job: GenerationJob) -> dict:
    clip = getattr(job, "clip", None) if job.state == JobState.SUCCEEDED else None
    if clip is not None and (clip.hidden or not job.prompt.is_public):
        clip = None  # hidden by a moderator: gone from the API
    return {
        "model": job.model.slug,
        "model_name": job.model.label,
        "procedural_demo": job.model.is_procedural_demo,
        "differs_from_request": request_notes(job),
        "state": job.state,
        "attempts": job.attempts,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "latency_s": job.latency_s,
        "queue_wait_s": job.queue_wait_s,
        "review_wait_s": job.review_wait_s,
        "cost_usd": None if job.cost_usd is None else float(job.cost_usd),
        # The code and its plain message; the raw text stays in the admin and the logs.
        "error": {"code": job.error_code, "message": job.public_error} if job.error_code and job.is_terminal else None,
        "clip": clip_dict(clip) if clip else None,
        "hidden": bool(getattr(job, "clip", None) and job.clip.hidden) if job.state == JobState.SUCCEEDED else False,
    }


def prompt_dict(prompt: Prompt, jobs: list[GenerationJob], *, show_text: bool | None = None) -> dict:
    """`show_text`: whether the prompt's text may be shown (default: only when the prompt is
    public). A held or rejected prompt's text is null except for moderators and its submitter."""
    show = prompt.is_public if show_text is None else show_text
    return {
        "id": prompt.public_id,
        "url": reverse("studio:prompt", args=[prompt.public_id]),
        "prompt": prompt.text if show else None,
        "negative_prompt": prompt.negative_prompt if show else None,
        "seed": prompt.seed,
        "duration_s": prompt.duration_s,
        "aspect_ratio": prompt.aspect_ratio,
        "created_at": prompt.created_at,
        "complete": all(job.is_terminal for job in jobs),
        "moderation": {"state": prompt.moderation, "message": MODERATION_MESSAGES[prompt.moderation]},
        "jobs": [job_dict(job) for job in jobs],
    }


def jobs_of(prompt: Prompt) -> list[GenerationJob]:
    return list(prompt.jobs.select_related("model", "clip", "prompt").order_by("model__display_name"))


def words(slug: str) -> str:
    """A stored identifier as a person reads it: "long_range_consistency" -> "Long range consistency"."""
    text = str(slug or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
