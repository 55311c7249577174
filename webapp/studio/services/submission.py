"""Submitting a prompt: validate everything first, then write the prompt and one job per model
in one transaction, then enqueue after commit. Used by the web form and the JSON API alike."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from webapp.catalog.models import VideoModel
from webapp.moderation import audit, policy
from webapp.moderation.models import AuditEntry

from ..models import GenerationJob, JobState, ModerationState, Prompt
from . import queue
from .requests import ASPECT_RATIOS

MIN_DURATION_S = 1.0
DEFAULT_DURATION_S = 4.0
SEED_MAX = 2**31 - 1


class SubmissionError(Exception):
    """A user mistake. `code` is machine-readable, the message is shown as is, `field` names
    the input it is about."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class PromptInput:
    text: str
    models: list[str] | None = None  # slugs; None means every enabled model
    duration_s: float | None = None
    aspect_ratio: str = "16:9"
    seed: int | None = None
    negative_prompt: str = ""


def _clean_text(value, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SubmissionError("invalid_type", f"{field} must be a string", field)
    text = " ".join(value.split())  # collapse whitespace, drop control whitespace
    if "\x00" in text or any(ord(ch) < 32 for ch in text):
        raise SubmissionError("invalid_characters", f"{field} contains control characters", field)
    if required and not text:
        raise SubmissionError("prompt_empty", "Write a prompt: it cannot be empty.", field)
    if len(text) > settings.PROMPT_MAX_CHARS:
        raise SubmissionError(
            "prompt_too_long" if field == "prompt" else "too_long",
            f"{field} is {len(text)} characters; the limit is {settings.PROMPT_MAX_CHARS}.",
            field,
        )
    return text


def _select_models(slugs) -> list[VideoModel]:
    if slugs is None:
        models = list(VideoModel.objects.filter(enabled=True))
        if not models:
            raise SubmissionError("no_models", "No video model is enabled on this arena.", "models")
        return models
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise SubmissionError("invalid_type", "models must be a list of model slugs", "models")
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        raise SubmissionError("no_models", "Pick at least one model.", "models")
    found = {m.slug: m for m in VideoModel.objects.filter(slug__in=wanted)}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise SubmissionError("unknown_model", f"Unknown model: {', '.join(unknown)}.", "models")
    disabled = [s for s in wanted if not found[s].enabled]
    if disabled:
        raise SubmissionError("model_disabled", f"This model is disabled: {', '.join(disabled)}.", "models")
    return [found[s] for s in wanted]


def _check_number(value, field: str, cast):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SubmissionError("invalid_type", f"{field} must be a number", field)
    try:
        number = cast(value)
    except (TypeError, ValueError):
        raise SubmissionError("invalid_type", f"{field} must be a number", field) from None
    if cast is int and isinstance(value, float) and not value.is_integer():
        raise SubmissionError("invalid_type", f"{field} must be a whole number", field)
    if number != number or number in (float("inf"), float("-inf")):
        raise SubmissionError("invalid_type", f"{field} must be a finite number", field)
    return number


def validate(data: PromptInput) -> tuple[dict, list[VideoModel]]:
    text = _clean_text(data.text, "prompt", required=True)
    negative = _clean_text(data.negative_prompt, "negative_prompt", required=False)
    models = _select_models(data.models)
    if data.aspect_ratio not in ASPECT_RATIOS:
        raise SubmissionError(
            "unsupported_aspect_ratio", f"Aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.", "aspect_ratio"
        )
    refusing = [
        m.slug for m in models if m.supported_aspect_ratios and data.aspect_ratio not in m.supported_aspect_ratios
    ]
    if refusing:
        raise SubmissionError(
            "unsupported_aspect_ratio", f"{', '.join(refusing)} cannot make {data.aspect_ratio} video.", "aspect_ratio"
        )
    duration = (
        DEFAULT_DURATION_S if data.duration_s in (None, "") else _check_number(data.duration_s, "duration_s", float)
    )
    longest = min(m.max_duration_s for m in models)
    if not MIN_DURATION_S <= duration <= longest:
        raise SubmissionError(
            "duration_out_of_range",
            f"Duration must be between {MIN_DURATION_S:g} and {longest:g} seconds for the chosen models.",
            "duration_s",
        )
    if data.seed in (None, ""):
        seed = random.SystemRandom().randint(0, SEED_MAX)
    else:
        seed = _check_number(data.seed, "seed", int)
        if not 0 <= seed <= SEED_MAX:
            raise SubmissionError("invalid_seed", f"seed must be between 0 and {SEED_MAX}", "seed")
    fields = dict(text=text, negative_prompt=negative, duration_s=duration, aspect_ratio=data.aspect_ratio, seed=seed)
    return fields, models


def submit_prompt(data: PromptInput, *, source: str = Prompt.Source.WEB) -> Prompt:
    """Validate, run the prompt policy, then write. Allowed: jobs are queued. Held: the prompt
    and its jobs are stored as HELD (no worker may claim them) until a moderator approves.
    Rejected: nothing is stored but the audit entry, and the submitter is told why."""
    fields, models = validate(data)
    verdict = policy.check(fields["text"], fields["negative_prompt"])
    if verdict.outcome == policy.REJECT:
        audit.record(
            AuditEntry.Action.POLICY_REJECT,
            AuditEntry.TargetKind.PROMPT,
            "",
            reason="; ".join(verdict.reasons),
            after=_policy_record(verdict, fields, source),
        )
        raise SubmissionError(
            "policy_rejected", "This prompt cannot be generated here. " + " ".join(verdict.reasons), "prompt"
        )
    held = verdict.outcome == policy.HOLD
    with transaction.atomic():
        prompt = Prompt.objects.create(
            source=source, moderation=ModerationState.HELD if held else ModerationState.ALLOWED, **fields
        )
        created = GenerationJob.objects.bulk_create(
            GenerationJob(prompt=prompt, model=m, state=JobState.HELD if held else JobState.QUEUED) for m in models
        )
        audit.record(
            AuditEntry.Action.POLICY_HOLD if held else AuditEntry.Action.POLICY_ALLOW,
            AuditEntry.TargetKind.PROMPT,
            prompt.public_id,
            reason="; ".join(verdict.reasons),
            after=_policy_record(verdict, fields, source, moderation=prompt.moderation),
        )
        if not held:
            queue.enqueue_many(queue.GENERATE, [job.pk for job in created])
    return prompt


def _policy_record(verdict, fields: dict, source: str, **extra) -> dict:
    return {
        "outcome": verdict.outcome,
        "findings": [f.as_dict() for f in verdict.findings],
        "prompt": fields["text"][:500],
        "source": source,
        **extra,
    }
