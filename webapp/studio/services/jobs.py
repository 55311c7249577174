"""The job state machine: claims under a lease, releases, final states, and the reaper.

Every transition is one conditional UPDATE (compare-and-set) so two workers holding copies of
the same message cannot both act: the one whose UPDATE matched a row proceeds, the other sees
0 rows and stops.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from webapp.core import leases
from webapp.core.tasks import TaskRoute

from ..models import LEASED_STATES, GenerationJob, JobState, ModerationState, Prompt
from . import queue
from .undeleted import discard

log = logging.getLogger(__name__)

STAGE_TASK: dict[str, TaskRoute] = {JobState.RUNNING: queue.GENERATE, JobState.PROCESSING: queue.PROCESS_CLIP}


def claim(job_id: int, *, stage: str, owner: str) -> GenerationJob | None:
    """Take the job for `stage` (RUNNING: call the backend; PROCESSING: the media pipeline).

    Generation can start from QUEUED; either stage can be re-taken once a previous holder's
    lease has run out. Returns the job, or None when someone else has it, it is finished, or
    its attempts are used up.
    """
    now = timezone.now()
    if stage == JobState.RUNNING:
        claimable = Q(state=JobState.QUEUED) | (Q(state=JobState.RUNNING) & leases.expired(now))
        counter = "attempts"
    elif stage == JobState.PROCESSING:
        claimable = Q(state=JobState.PROCESSING) & leases.expired(now)
        counter = "media_attempts"
    else:
        raise ValueError(f"not a leased stage: {stage}")
    rows = GenerationJob.objects.filter(pk=job_id)
    if not leases.claim(
        rows, claimable=claimable, owner=owner, counter=counter, state=stage, started_at=Coalesce(F("started_at"), now)
    ):
        return None
    return GenerationJob.objects.select_related("prompt", "model").get(pk=job_id)


def _held_by(job: GenerationJob) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(pk=job.pk, state=job.state, lease_owner=job.lease_owner)


def kept_alive(job: GenerationJob):
    """Renew the lease of a job we claimed while the block runs (core/leases.py)."""
    return leases.kept_alive(_held_by(job))


def record_progress(job: GenerationJob, steps_done: int, steps: int) -> None:
    """Note a local model's denoising progress for the job card while we hold the job; the
    result's own vendor_metadata replaces it when the job finishes."""
    _held_by(job).update(vendor_metadata={"progress": {"steps_done": int(steps_done), "steps": int(steps)}})


def still_held(job: GenerationJob) -> bool:
    """Whether the job is still ours to work on: false once it was cancelled, or taken over
    by another worker after our lease ran out. A local model stops between steps then."""
    return _held_by(job).exists()


def finish(job: GenerationJob, state: str, *, error_code: str = "", error_message: str = "", **fields) -> bool:
    """Move a job we hold to a final state (or PROCESSING, handing it to the media stage).
    False when we no longer hold it: our lease ran out and another worker took over."""
    leased = state in LEASED_STATES
    updated = _held_by(job).update(
        state=state,
        error_code=error_code,
        error_message=error_message[:4000],
        lease_owner="",
        lease_expires_at=None,
        finished_at=None if leased else timezone.now(),
        **fields,
    )
    if updated == 1:
        job.state = state
        job.lease_owner = ""
    else:
        log.warning("job %s: lost the lease before finishing as %s", job.pk, state)
    return updated == 1


def release_for_retry(job: GenerationJob, *, error_code: str, error_message: str, delay_s: float) -> bool:
    """Give the job back to the queue after a transient failure, or fail it when the attempts
    are used up. Returns True when a retry was scheduled."""
    if job.stage_attempts >= settings.JOB_MAX_ATTEMPTS:
        finish(
            job,
            JobState.FAILED,
            error_code=error_code,
            error_message=f"gave up after {job.stage_attempts} attempts: {error_message}",
        )
        return False
    # A job that reached the media stage retries that stage; otherwise it goes back to QUEUED.
    next_state = JobState.PROCESSING if job.state == JobState.PROCESSING else JobState.QUEUED
    with transaction.atomic():
        updated = _held_by(job).update(
            state=next_state,
            lease_owner="",
            error_code=error_code,
            error_message=error_message[:4000],
            # A PROCESSING job keeps a short lease so only our scheduled retry picks it up early.
            lease_expires_at=timezone.now() + timedelta(seconds=delay_s) if next_state == JobState.PROCESSING else None,
        )
        if updated == 1:
            task = queue.PROCESS_CLIP if next_state == JobState.PROCESSING else queue.GENERATE
            queue.enqueue(task, job.pk, countdown=delay_s)
    return updated == 1


def defer(job: GenerationJob, *, delay_s: float, reason: str, error_code: str = "deferred_by_limit") -> bool:
    """Back to the queue without using up an attempt: the job never reached the vendor (a
    per-backend concurrency or rate limit was full), or the vendor asked us to slow down (a
    429: `error_code` "vendor_rate_limited"). Re-enqueued with a delay, not a busy wait."""
    delay_s = max(float(delay_s), 0.5)
    with transaction.atomic():
        updated = _held_by(job).update(
            state=JobState.QUEUED,
            lease_owner="",
            lease_expires_at=None,
            attempts=F("attempts") - 1,
            error_code=error_code,
            error_message=reason[:4000],
        )
        if updated == 1:
            queue.enqueue(queue.GENERATE, job.pk, countdown=delay_s)
    return updated == 1


def record_vendor_job_id(job: GenerationJob, vendor_job_id: str) -> None:
    """Persist the vendor's id before polling, so a retry resumes instead of paying twice."""
    if not _held_by(job).update(vendor_job_id=vendor_job_id):
        log.warning("job %s: lost the lease while recording vendor job %s", job.pk, vendor_job_id)
    job.vendor_job_id = vendor_job_id


# A message is sent right after its transaction commits; a row that says none went out
# (enqueued_at empty) for longer than this lost its send to a broker error.
UNSENT_GRACE_S = 30
# Each re-send of a waiting job doubles its quiet period, at most this many times.
MAX_RESEND_DOUBLINGS = 3


def _waiting() -> Q:
    """Jobs that wait for a worker to take a message: queued, or handed to the media stage
    (processing with no lease; `finish` clears it on the hand-over)."""
    return Q(state=JobState.QUEUED) | Q(state=JobState.PROCESSING, lease_expires_at__isnull=True)


def _message_lost(job: GenerationJob, now) -> bool:
    """Whether the job's last message can no longer be waiting in the queue: it was never sent,
    or it was sent longer ago than JOB_QUEUED_STALE_S, doubled for each re-send already made
    (under a backlog a message can wait long; re-sending it again and again floods the queue)."""
    if job.enqueued_at is None:
        return job.queued_at < now - timedelta(seconds=UNSENT_GRACE_S)
    quiet_s = settings.JOB_QUEUED_STALE_S * 2 ** min(job.resend_count, MAX_RESEND_DOUBLINGS)
    return job.enqueued_at < now - timedelta(seconds=quiet_s)


def _resend(job_id: int, state: str) -> None:
    with transaction.atomic():
        GenerationJob.objects.filter(pk=job_id).update(resend_count=F("resend_count") + 1)
        queue.enqueue(STAGE_TASK.get(state, queue.GENERATE), job_id)


def reap_stale_jobs() -> dict:
    """Beat task body. Re-sends work that lost its worker or its message; fails jobs that used
    up their attempts. Safe to run anywhere, any number of times: claims decide who works.

    A job whose lease ran out (its worker died) goes back to waiting: queued again, or
    processing with no lease, and a message is sent at once. A waiting job gets a new message
    only when its last one is lost (`_message_lost`), so a backlog is not flooded."""
    now = timezone.now()
    report = {"resent": 0, "failed": 0}
    expired = GenerationJob.objects.filter(state__in=LEASED_STATES, lease_expires_at__lt=now)
    for job in expired.only("pk", "state", "attempts", "media_attempts", "lease_owner"):
        still_expired = GenerationJob.objects.filter(pk=job.pk, state=job.state, lease_expires_at__lt=now)
        if job.stage_attempts >= settings.JOB_MAX_ATTEMPTS:
            report["failed"] += still_expired.update(
                state=JobState.FAILED,
                finished_at=now,
                lease_owner="",
                lease_expires_at=None,
                error_code="attempts_exhausted",
                error_message=f"the worker stopped responding {job.stage_attempts} times; giving up",
            )
            continue
        waiting_state = JobState.PROCESSING if job.state == JobState.PROCESSING else JobState.QUEUED
        if still_expired.update(state=waiting_state, lease_owner="", lease_expires_at=None, enqueued_at=None):
            _resend(job.pk, waiting_state)
            report["resent"] += 1
    waiting = GenerationJob.objects.filter(_waiting()).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=settings.JOB_QUEUED_STALE_S))
    )
    for job in waiting.only("pk", "state", "attempts", "media_attempts", "enqueued_at", "queued_at", "resend_count"):
        if not _message_lost(job, now):
            continue
        if job.stage_attempts >= settings.JOB_MAX_ATTEMPTS:  # no claim would take it: say so
            counter = "media_attempts" if job.state == JobState.PROCESSING else "attempts"
            exhausted = GenerationJob.objects.filter(
                _waiting(), pk=job.pk, **{f"{counter}__gte": settings.JOB_MAX_ATTEMPTS}
            )
            report["failed"] += exhausted.update(
                state=JobState.FAILED,
                finished_at=now,
                error_code="attempts_exhausted",
                error_message=f"{job.stage_attempts} attempts used; giving up",
            )
            continue
        _resend(job.pk, job.state)
        report["resent"] += 1
    if report["resent"] or report["failed"]:
        log.info("reaper: %s", report)
    return report


def release_leases_of_node(node_name: str) -> int:
    """Called when a worker starts: leases recorded under its node name are from a dead
    predecessor. Expire them and let the reaper resend the work."""
    released = GenerationJob.objects.filter(
        state__in=LEASED_STATES, lease_owner__startswith=f"{node_name} pid "
    ).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    if released:
        log.warning("worker %s restarted: recovering %d orphaned job(s)", node_name, released)
        reap_stale_jobs()
    return released


def release_held(prompt: Prompt) -> list[int]:
    """A moderator approved the prompt: its held jobs are queued and sent after commit."""
    held = list(GenerationJob.objects.filter(prompt=prompt, state=JobState.HELD).values_list("pk", flat=True))
    GenerationJob.objects.filter(pk__in=held, state=JobState.HELD).update(
        state=JobState.QUEUED, released_at=timezone.now()
    )
    queue.enqueue_many(queue.GENERATE, held)
    return held


def cancel_unstarted(prompt: Prompt, *, code: str, message: str) -> int:
    """Nothing more is generated for this prompt: held and queued jobs are cancelled (started
    ones finish, and the media step discards what a rejected prompt's vendor returns)."""
    return GenerationJob.objects.filter(prompt=prompt, state__in=(JobState.HELD, JobState.QUEUED)).update(
        state=JobState.CANCELLED, finished_at=timezone.now(), error_code=code, error_message=message
    )


def cancel_queued(job_ids, reason: str) -> int:
    """Cancel jobs that no worker has started; started ones finish normally."""
    return GenerationJob.objects.filter(pk__in=list(job_ids), state=JobState.QUEUED).update(
        state=JobState.CANCELLED, finished_at=timezone.now(), error_code="cancelled", error_message=reason
    )


# What a person may still stop: everything but a final state.
CANCELLABLE_STATES = (JobState.HELD, JobState.QUEUED, JobState.RUNNING, JobState.PROCESSING)


def cancel(job_id: int, *, by: str) -> bool:
    """Stop a job that is not finished, at the request of its submitter or a moderator (`by`
    goes to error_message, which only staff read). False when it had already finished.

    The row turns CANCELLED at once, with no lease, so whoever works on the job loses it:
    a model on our own GPUs stops at its next step (`still_held`); a vendor adapter runs on,
    and its hand-over, finding the job no longer ours, deletes the downloaded file (the vendor
    is not told: none of the adapters has a cancel call, so a vendor may still charge); the
    media step keeps no clip (it only writes one for a job it holds). An original already
    stored is deleted after the commit."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id, state__in=CANCELLABLE_STATES).first()
        if job is None:
            return False
        original = job.original.name
        GenerationJob.objects.filter(pk=job_id).update(
            state=JobState.CANCELLED,
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
            original="",
            error_code="cancelled_by_user",
            error_message=f"cancelled by {by}"[:4000],
        )
        if original:
            transaction.on_commit(lambda: discard(original))
    log.info("job %s cancelled by %s", job_id, by)
    return True


def retry_failed(job_ids) -> int:
    """Operator action: give failed jobs a fresh set of attempts (vendor job id kept, so an
    unfinished vendor job is resumed rather than paid for again). Only jobs of prompts the
    policy or a moderator allowed: a held or rejected prompt never goes to a vendor again."""
    retried = 0
    for job_id in job_ids:
        with transaction.atomic():
            if GenerationJob.objects.filter(
                pk=job_id, state=JobState.FAILED, prompt__moderation=ModerationState.ALLOWED
            ).update(
                state=JobState.QUEUED, attempts=0, media_attempts=0, finished_at=None, error_code="", error_message=""
            ):
                queue.enqueue(queue.GENERATE, job_id)
                retried += 1
    return retried
