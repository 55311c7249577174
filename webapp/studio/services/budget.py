"""The spend budget: how fast anyone may queue generation jobs, and how much they may cost the
arena. `submit_prompt` calls `admit` once, after validation and the policy check, inside the
transaction that stores the prompt, before anything is written (docs/operations.md, "Spend
budget"):

1. Staff, moderators and the operators' commands (run_suite, seed_demo) are exempt.
2. Per-IP and per-session rate limits (core/ratelimit.py): 429 `rate_limited` with
   Retry-After. A visitor without a session is counted by address only; no session is
   created just to count them.
3. Then one submission at a time (sql.lock_submissions), so two cannot both take the last
   dollar or the last queue place:
   - the same prompt (text ignoring case and spacing, negative prompt, models, duration,
     aspect ratio, and the seed when one was given) stored by anyone within
     DUPLICATE_PROMPT_WINDOW_S is returned instead of queueing new jobs;
   - MAX_QUEUED_JOBS across the site: 503 `queue_full`;
   - DAILY_SPEND_CAP_USD: today's estimated spend plus this prompt's must fit, else 503
     `daily_budget_exhausted` with Retry-After until the day ends. A model without a price
     counts at SPEND_UNPRICED_PER_SECOND_USD; when that is 0, such a model is refused
     (422 `model_unpriced`) while the cap is on.

Spend is estimated from the database, not counted in a cache: every job created today (the
day of TIME_ZONE), at its model's catalog price (catalog/pricing.py) for its prompt's duration.
Jobs cancelled before any vendor call cost nothing and do not count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils import timezone

from webapp.catalog import pricing
from webapp.catalog.models import VideoModel
from webapp.core import ratelimit
from webapp.core.clients import client_ip, keyed_digest
from webapp.core.errors import ScreentestError
from webapp.policy.states import ModerationState

from .. import sql
from ..models import GenerationJob, JobState, Prompt

# The moderation app's permission, named, not imported: the studio sits below moderation.
MODERATE_PERMISSION = "moderation.moderate"
# Jobs that hold a place in the queue.
ACTIVE_STATES = (JobState.QUEUED, JobState.HELD, JobState.RUNNING, JobState.PROCESSING)
# When the queue is full, ask to come back after this many seconds.
QUEUE_FULL_RETRY_AFTER_S = 60
# Float sums of prices: a prompt that fits the cap to the cent is not refused over rounding.
EPSILON_USD = 1e-9
_DUPLICATE = "_budget_duplicate"


class BudgetError(ScreentestError):
    """A prompt the spend budget refuses; nothing was written."""

    status = 429


@dataclass(frozen=True)
class Submitter:
    """Who submits: the client address, the browser session if there is one, and whether they
    are exempt (staff, moderators, operators)."""

    ip: str = ""
    session_key: str | None = None
    exempt: bool = False

    @classmethod
    def of(cls, request: HttpRequest) -> Submitter:
        user = request.user
        exempt = bool(
            user.is_authenticated and user.is_active and (user.is_staff or user.has_perm(MODERATE_PERMISSION))
        )
        # Load the session without creating one: a cookie naming no stored session (expired,
        # forged) loads as no session, so rotating cookies earns no fresh per-session count.
        request.session.get("_")
        return cls(ip=client_ip(request), session_key=request.session.session_key, exempt=exempt)


# What internal callers (management commands, the prompt suite) pass: exempt.
OPERATOR = Submitter(exempt=True)


def admit(submitter: Submitter, fields: dict, models: list[VideoModel], *, seed_given: bool) -> Prompt | None:
    """None: store the prompt. A Prompt: the same prompt stored moments ago, to return instead
    (`is_duplicate` says so). Raises BudgetError to refuse. Call inside the transaction that
    stores the prompt and its jobs: the lock taken here lasts until it ends."""
    if submitter.exempt:
        return None
    _check_rate(submitter)
    sql.lock_submissions()
    earlier = duplicate_of(fields, models, seed_given=seed_given)
    if earlier is not None:
        setattr(earlier, _DUPLICATE, True)
        return earlier
    _check_queue(len(models))
    _check_spend(fields["duration_s"], models)
    return None


def is_duplicate(prompt: Prompt) -> bool:
    """True for a prompt `admit` returned in place of a new one."""
    return bool(getattr(prompt, _DUPLICATE, False))


# --- rate ---------------------------------------------------------------------------------


def _check_rate(submitter: Submitter) -> None:
    limits = [
        ratelimit.Limit(f"submit:ip:{keyed_digest('ip', submitter.ip)}", settings.SUBMIT_RATE_PER_IP_PER_HOUR, 3600)
    ]
    if submitter.session_key:
        key = keyed_digest("session", submitter.session_key)
        limits.append(ratelimit.Limit(f"submit:s:{key}", settings.SUBMIT_RATE_PER_SESSION_PER_HOUR, 3600))
    wait = ratelimit.hit(*limits)
    if wait is not None:
        raise BudgetError(
            "rate_limited",
            f"Too many prompts in a short time: try again in {_duration(wait)}.",
            status=429,
            retry_after=wait,
        )


def _duration(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- duplicates -----------------------------------------------------------------------------


def duplicate_of(fields: dict, models: list[VideoModel], *, seed_given: bool) -> Prompt | None:
    """The newest stored prompt (allowed, or held for review) within the window that asked for
    exactly this: same text (case aside), negative prompt, models, duration, aspect ratio, and
    seed when one was given."""
    window = settings.DUPLICATE_PROMPT_WINDOW_S
    if window <= 0:
        return None
    candidates = Prompt.objects.filter(
        created_at__gte=timezone.now() - timedelta(seconds=window),
        moderation__in=[ModerationState.ALLOWED, ModerationState.HELD],
        text__iexact=fields["text"],
        negative_prompt__iexact=fields["negative_prompt"],
        duration_s=fields["duration_s"],
        aspect_ratio=fields["aspect_ratio"],
    )
    if seed_given:
        candidates = candidates.filter(seed=fields["seed"])
    wanted = sorted(m.pk for m in models)
    for prompt in candidates.order_by("-created_at", "-id").prefetch_related("jobs")[:20]:
        if sorted(job.model_id for job in prompt.jobs.all()) == wanted:
            return prompt
    return None


# --- the queue ------------------------------------------------------------------------------


def queued_jobs() -> int:
    return GenerationJob.objects.filter(state__in=ACTIVE_STATES).count()


def _check_queue(new_jobs: int) -> None:
    cap = settings.MAX_QUEUED_JOBS
    if cap > 0 and queued_jobs() + new_jobs > cap:
        raise BudgetError(
            "queue_full",
            "The arena has too many videos in the works right now. Try again in a few minutes.",
            status=503,
            retry_after=QUEUE_FULL_RETRY_AFTER_S,
        )


# --- spend ----------------------------------------------------------------------------------


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of the budget's day: the calendar day in TIME_ZONE (UTC by default)."""
    zone = timezone.get_default_timezone()
    today = timezone.localdate(now, timezone=zone)
    return datetime.combine(today, time.min, tzinfo=zone), datetime.combine(
        today + timedelta(days=1), time.min, tzinfo=zone
    )


def job_estimate(model: VideoModel, duration_s: float) -> float | None:
    """What the budget counts for one job: the catalog estimate, else the unpriced rate; None
    when the model has no price and the unpriced rate is off (0)."""
    estimate = pricing.estimate_usd(model, duration_s)
    if estimate is not None:
        return estimate
    per_second = settings.SPEND_UNPRICED_PER_SECOND_USD
    return per_second * pricing.billed_seconds(model, duration_s) if per_second > 0 else None


@dataclass(frozen=True)
class ModelSpend:
    model: VideoModel
    jobs: int
    seconds: float  # billed by the vendor
    estimated_usd: float  # what the budget counts
    priced: bool  # False: counted at the unpriced rate (or 0 when that is off)
    reported_usd: float | None  # what the adapters reported so far (jobs that finished)


def _counted_jobs(start: datetime, end: datetime):
    """Jobs created in [start, end), less those cancelled before any vendor call."""
    return GenerationJob.objects.filter(queued_at__gte=start, queued_at__lt=end).exclude(
        state=JobState.CANCELLED, attempts=0
    )


def spend_by_model(start: datetime, end: datetime) -> list[ModelSpend]:
    """Estimated spend of the jobs created in [start, end) per model, the most expensive first.
    The database groups the jobs by model and duration; the prices are applied here."""
    jobs = _counted_jobs(start, end)
    groups = jobs.values_list("model_id", "prompt__duration_s").annotate(n=Count("id")).order_by()
    reported = dict(jobs.values_list("model_id").annotate(usd=Sum("cost_usd")).order_by())
    models = VideoModel.objects.in_bulk({model_id for model_id, _, _ in groups})
    totals: dict[int, list[float]] = {}
    for model_id, duration_s, n in groups:
        model = models[model_id]
        total = totals.setdefault(model_id, [0, 0.0, 0.0])
        total[0] += n
        total[1] += n * pricing.billed_seconds(model, duration_s)
        total[2] += n * (job_estimate(model, duration_s) or 0.0)
    rows = [
        ModelSpend(
            model=models[model_id],
            jobs=int(n),
            seconds=seconds,
            estimated_usd=usd,
            priced=pricing.price_per_second(models[model_id]) is not None,
            reported_usd=None if reported.get(model_id) is None else float(reported[model_id]),
        )
        for model_id, (n, seconds, usd) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.estimated_usd, -row.jobs, row.model.slug))


def spent(start: datetime, end: datetime) -> float:
    return sum(row.estimated_usd for row in spend_by_model(start, end))


def _check_spend(duration_s: float, models: list[VideoModel]) -> None:
    cap = settings.DAILY_SPEND_CAP_USD
    if cap < 0:
        return
    costs = {model: job_estimate(model, duration_s) for model in models}
    unpriced = [model.label for model, cost in costs.items() if cost is None]
    if unpriced:
        raise BudgetError(
            "model_unpriced",
            f"{', '.join(unpriced)} has no known price, and this arena caps its daily spending: pick another model.",
            status=422,
            field="models",
        )
    cost = sum(cost or 0.0 for cost in costs.values())
    if cost <= 0:
        return  # free models never touch the budget
    start, end = day_bounds()
    if spent(start, end) + cost > cap + EPSILON_USD:
        wait = max(1, math.ceil((end - timezone.now()).total_seconds()))
        raise BudgetError(
            "daily_budget_exhausted",
            f"Today's generation budget cannot cover this prompt (about ${cost:.2f}). Choose fewer or cheaper "
            f"models or a shorter clip, or try again after the budget resets at {end:%H:%M} {end.tzname()}.",
            status=503,
            retry_after=wait,
        )


# --- the operators' view --------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    day_start: datetime
    day_end: datetime
    spent_usd: float
    cap_usd: float | None  # None: no cap
    queued_jobs: int
    queue_cap: int | None  # None: no cap
    by_model: list[ModelSpend]


def report() -> Report:
    start, end = day_bounds()
    by_model = spend_by_model(start, end)
    return Report(
        day_start=start,
        day_end=end,
        spent_usd=sum(row.estimated_usd for row in by_model),
        cap_usd=settings.DAILY_SPEND_CAP_USD if settings.DAILY_SPEND_CAP_USD >= 0 else None,
        queued_jobs=queued_jobs(),
        queue_cap=settings.MAX_QUEUED_JOBS if settings.MAX_QUEUED_JOBS > 0 else None,
        by_model=by_model,
    )
