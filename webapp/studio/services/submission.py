"""Submitting a prompt: validate everything first, then write the prompt and one job per model
in one transaction, then enqueue after commit. Used by the web form and the JSON API alike."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from webapp.catalog import capabilities
from webapp.catalog.models import VideoModel
from webapp.catalog.sizes import ASPECT_RATIOS
from webapp.core import validation
from webapp.core.errors import ScreentestError
from webapp.policy import screening
from webapp.policy.states import ModerationState

from ..models import GenerationJob, JobState, Prompt
from ..signals import prompt_screened
from . import budget, queue

MIN_DURATION_S = 1.0
DEFAULT_DURATION_S = 4.0
SEED_MAX = 2**31 - 1


class SubmissionError(ScreentestError):
    """A prompt that cannot be accepted as sent; `field` names the input it is about."""

    status = 422


class ModelsCannotHonour(SubmissionError):
    """Chosen models that must not be asked for this (retired, or an aspect they cannot
    make): the message names each with its reasons, and the API gets them by slug."""

    def __init__(self, blocking: dict[VideoModel, list[capabilities.Shortfall]]):
        self.models = {m.slug: [s.message for s in reasons] for m, reasons in blocking.items()}
        names = "; ".join(f"{m.label} {' and '.join(s.message for s in r)}" for m, r in blocking.items())
        super().__init__(
            "models_cannot_honour", f"Deselect these models or change the request: {names}.", field="models"
        )

    def as_dict(self) -> dict:
        return {**super().as_dict(), "models": self.models}


@dataclass(frozen=True)
class PromptInput:
    """The submission as received (JSON values or form strings): validate() checks every type."""

    text: Any
    models: Any = None  # a list of slugs; None means every enabled model
    duration_s: Any = None
    aspect_ratio: Any = "16:9"
    seed: Any = None
    negative_prompt: Any = ""


def _clean_text(value, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SubmissionError("invalid_type", f"{field} must be a string", field=field)
    try:
        text = validation.clean_text(value, field)  # whitespace collapsed; no invisible characters
    except ScreentestError as exc:
        raise SubmissionError(exc.code, exc.message, field=field) from None
    if required and not text:
        raise SubmissionError("prompt_empty", "Write a prompt: it cannot be empty.", field=field)
    if len(text) > settings.PROMPT_MAX_CHARS:
        raise SubmissionError(
            "prompt_too_long" if field == "prompt" else "too_long",
            f"{field} is {len(text)} characters; the limit is {settings.PROMPT_MAX_CHARS}.",
            field=field,
        )
    return text


def _select_models(slugs) -> list[VideoModel]:
    if slugs is None:
        models = list(VideoModel.objects.filter(enabled=True))
        if not models:
            raise SubmissionError("no_models", "No video model is enabled on this arena.", field="models")
        return models
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise SubmissionError("invalid_type", "models must be a list of model slugs", field="models")
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        raise SubmissionError("no_models", "Pick at least one model.", field="models")
    found = {m.slug: m for m in VideoModel.objects.filter(slug__in=wanted)}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise SubmissionError("unknown_model", f"Unknown model: {', '.join(unknown)}.", field="models")
    disabled = [s for s in wanted if not found[s].enabled]
    if disabled:
        raise SubmissionError("model_disabled", f"This model is disabled: {', '.join(disabled)}.", field="models")
    return [found[s] for s in wanted]


# What a person calls each numeric field, in the messages the form shows beside it (the API
# names the field in its own `field` member as well).
NUMBER_NAMES = {"duration_s": "The duration (in seconds)", "seed": "The seed"}


def _check_number(value, field: str, cast):
    """A number as the JSON API passes it (already of its type, core/validation.py) or as the
    web form does (a string): the same rules for both, so a form cannot get past what the API
    refuses. `cast` is int (a whole number; 7.0 is 7) or float."""
    name = NUMBER_NAMES.get(field, field)
    if isinstance(value, str):
        literal = value.strip()
        if len(literal) > validation.MAX_NUMBER_CHARS:
            raise SubmissionError("number_out_of_range", f"{name} is too large a number to be taken.", field=field)
        try:
            value = float(literal) if any(ch in literal for ch in ".eE") or cast is float else int(literal)
        except ValueError:
            raise SubmissionError("invalid_type", f"{name} must be a number, like 4 or 8.", field=field) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SubmissionError("invalid_type", f"{name} must be a number, like 4 or 8.", field=field)
    if isinstance(value, float) and not math.isfinite(value):
        raise SubmissionError("invalid_type", f"{name} must be a number, like 4 or 8.", field=field)
    if cast is int:
        if isinstance(value, float) and not value.is_integer():
            raise SubmissionError("invalid_type", f"{name} must be a whole number.", field=field)
        return int(value)
    if isinstance(value, int) and abs(value) > 10**15:  # beyond any range checked here; float() could overflow
        raise SubmissionError("number_out_of_range", f"{name} is too large a number to be taken.", field=field)
    return float(value)


def validate(data: PromptInput) -> tuple[dict, list[VideoModel]]:
    text = _clean_text(data.text, "prompt", required=True)
    negative = _clean_text(data.negative_prompt, "negative_prompt", required=False)
    models = _select_models(data.models)
    if data.aspect_ratio not in ASPECT_RATIOS:
        raise SubmissionError(
            "unsupported_aspect_ratio", f"Aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.", field="aspect_ratio"
        )
    refusing = [
        m.slug for m in models if m.supported_aspect_ratios and data.aspect_ratio not in m.supported_aspect_ratios
    ]
    if refusing:
        raise SubmissionError(
            "unsupported_aspect_ratio",
            f"{', '.join(refusing)} cannot make {data.aspect_ratio} video.",
            field="aspect_ratio",
        )
    duration = (
        DEFAULT_DURATION_S if data.duration_s in (None, "") else _check_number(data.duration_s, "duration_s", float)
    )
    longest = min(m.max_duration_s for m in models)
    if not MIN_DURATION_S <= duration <= longest:
        raise SubmissionError(
            "duration_out_of_range",
            f"Duration must be between {MIN_DURATION_S:g} and {longest:g} seconds for the chosen models.",
            field="duration_s",
        )
    if data.seed in (None, ""):
        seed = random.SystemRandom().randint(0, SEED_MAX)
    else:
        seed = _check_number(data.seed, "seed", int)
        if not 0 <= seed <= SEED_MAX:
            raise SubmissionError("invalid_seed", f"The seed must be between 0 and {SEED_MAX}.", field="seed")
    wish = capabilities.RequestedOptions(
        duration_s=duration,
        aspect_ratio=data.aspect_ratio,
        seed=data.seed not in (None, ""),
        negative_prompt=bool(negative),
    )
    blocking = {
        model: [r for r in reasons if r.blocking]
        for model, reasons in capabilities.shortfalls(models, wish).items()
        if any(r.blocking for r in reasons)
    }
    if blocking:
        raise ModelsCannotHonour(blocking)
    fields = dict(text=text, negative_prompt=negative, duration_s=duration, aspect_ratio=data.aspect_ratio, seed=seed)
    return fields, models


def notices(prompt: Prompt, models: list[VideoModel]) -> dict[VideoModel, list[capabilities.Shortfall]]:
    """How each model's clip of this prompt differs from what was asked (a nearby duration, no
    seed, the negative prompt not sent), for the prompt's page and the API's answer."""
    wish = capabilities.RequestedOptions(
        duration_s=prompt.duration_s,
        aspect_ratio=prompt.aspect_ratio,
        seed=True,
        negative_prompt=bool(prompt.negative_prompt),
    )
    return capabilities.shortfalls(models, wish)


def submit_prompt(
    data: PromptInput, *, source: str = Prompt.Source.WEB, submitter: budget.Submitter = budget.OPERATOR
) -> Prompt:
    """Validate, run the prompt policy, then write. Allowed: jobs are queued. Held: the prompt
    and its jobs are stored as HELD (no worker may claim them) until a moderator approves.
    Rejected: nothing is stored, and the submitter is told why. Every outcome is announced
    with `prompt_screened` (the moderation app writes it to its audit log), a held or allowed
    one inside the transaction that stores the prompt.

    The spend budget (budget.py) then admits the prompt, refuses it (BudgetError), or returns
    the same prompt stored moments ago. The form and the API pass `Submitter.of(request)`; the
    default, an operator (management commands, the prompt suite), is exempt."""
    fields, models = validate(data)
    verdict = screening.check(fields["text"], fields["negative_prompt"])
    if verdict.outcome == screening.REJECT:
        prompt_screened.send(sender=Prompt, verdict=verdict, prompt=None, fields=fields, source=source)
        raise SubmissionError(
            "policy_rejected", "This prompt cannot be generated here. " + " ".join(verdict.reasons), field="prompt"
        )
    held = verdict.outcome == screening.HOLD
    with transaction.atomic():
        earlier = budget.admit(submitter, fields, models, seed_given=data.seed not in (None, ""))
        if earlier is not None:
            return earlier
        prompt = Prompt.objects.create(
            source=source, moderation=ModerationState.HELD if held else ModerationState.ALLOWED, **fields
        )
        created = GenerationJob.objects.bulk_create(
            GenerationJob(prompt=prompt, model=m, state=JobState.HELD if held else JobState.QUEUED) for m in models
        )
        prompt_screened.send(sender=Prompt, verdict=verdict, prompt=prompt, fields=fields, source=source)
        if not held:
            queue.enqueue_many(queue.GENERATE, [job.pk for job in created])
    return prompt
