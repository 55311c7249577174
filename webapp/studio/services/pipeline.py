"""The two worker stages of a job.

generate_step: claim -> call the backend adapter -> store the original -> hand over to media.
media_step:    claim -> validate with ffprobe -> the sound measured -> blind rendition (with the
               sound when it plays) + poster + hashes -> Clip.

Each stage writes its files to storage first and its rows second, in one transaction that
also checks we still hold the job; if that fails, the files just written are deleted again,
so there is never a second clip, a half-written row or an orphaned file.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from webapp.core.media_tools import media_limits, media_tools
from webapp.core.storage import (
    STORAGE_FULL,
    failure_code,
    is_disk_full,
    local_copy,
    name_of,
    scratch_dir,
    scratch_space_low,
    store,
)
from workers import media
from workers.backends import base as backend_errors
from workers.backends.registry import LOCAL_BACKENDS, UnknownBackend, get_backend
from workers.media import provenance_c2pa

from ..models import Clip, GenerationJob, JobState, ModerationState, Prompt
from . import jobs, measurements, queue
from .backend_limits import backend_slot
from .requests import build_request
from .undeleted import discard

log = logging.getLogger(__name__)


def retry_delay(job: GenerationJob, hint: float | None = None) -> float:
    """Exponential backoff (10, 20, 40 s ...), at least what the vendor asked for, capped
    far below the broker's visibility timeout."""
    backoff = 10 * 2 ** max(job.stage_attempts - 1, 0)
    return float(min(max(backoff, hint or 0), 600))


# --- stage 1: the backend ------------------------------------------------------------------


def generate_step(job_id: int, *, owner: str) -> None:
    job = jobs.claim(job_id, stage=JobState.RUNNING, owner=owner)
    if job is None:
        log.info("job %s: not claimable (finished, held elsewhere or out of attempts)", job_id)
        return
    with jobs.kept_alive(job):
        _generate(job)


def _generate(job: GenerationJob) -> None:
    if job.prompt.moderation != ModerationState.ALLOWED:
        # However the job got here (an old message, a retry), a prompt the policy or a
        # moderator did not allow is never sent to a vendor.
        jobs.finish(
            job, JobState.CANCELLED, error_code="prompt_not_allowed", error_message="The prompt is not allowed."
        )
        return
    try:
        backend = get_backend(job.model.backend_key)
        request = build_request(job)
        with backend_slot(job) as slot:
            if not slot.granted:  # over the backend's cap or rate: back to the queue, no attempt used
                jobs.defer(job, delay_s=slot.retry_after, reason=f"backend {slot.reason} limit reached")
                return
            with scratch_dir(f"job{job.pk}-") as workdir:
                result = backend.generate(
                    request,
                    workdir=workdir,
                    resume_vendor_job_id=job.vendor_job_id or None,
                    on_submitted=lambda vendor_job_id: jobs.record_vendor_job_id(job, vendor_job_id),
                    **local_model_hooks(job),
                )
                _hand_over_to_media(job, result)
    except UnknownBackend as exc:
        jobs.finish(job, JobState.FAILED, error_code="unknown_backend", error_message=str(exc))
    except backend_errors.VendorPolicyRejection as exc:
        jobs.finish(job, JobState.REJECTED_BY_VENDOR, error_code=exc.code, error_message=str(exc))
    except backend_errors.PermanentError as exc:
        jobs.finish(job, JobState.FAILED, error_code=exc.code, error_message=str(exc))
    except backend_errors.RetryableError as exc:
        if exc.code == "rate_limited" and _may_wait_for_vendor(job):
            # The vendor is busy, not broken: wait as long as it says, without using an attempt.
            wait_s = exc.retry_after if exc.retry_after is not None else settings.VENDOR_RATE_LIMIT_WAIT_S
            jobs.defer(
                job,
                delay_s=min(wait_s, settings.VENDOR_RATE_LIMIT_MAX_WAIT_S),
                reason=str(exc),
                error_code="vendor_rate_limited",
            )
            return
        jobs.release_for_retry(
            job, error_code=exc.code, error_message=str(exc), delay_s=retry_delay(job, exc.retry_after)
        )
    except (backend_errors.GenerationTimeout, SoftTimeLimitExceeded) as exc:
        if job.model.backend_key in LOCAL_BACKENDS:
            # A model on our own GPUs has no job to resume: another attempt would start over
            # and run out of time again. (Its own time_limit_s, checked between steps, ends it
            # sooner and says so.)
            jobs.finish(
                job,
                JobState.FAILED,
                error_code="timed_out",
                error_message="the worker's time limit (JOB_SOFT_TIME_LIMIT_S) ran out during generation"
                if isinstance(exc, SoftTimeLimitExceeded)
                else str(exc),
            )
            return
        # The vendor job id is stored, so the next attempt resumes polling the same job.
        jobs.release_for_retry(
            job, error_code="timed_out", error_message=str(exc) or "generation timed out", delay_s=retry_delay(job)
        )
    except Exception as exc:  # a full disk, a bug or an outage we did not foresee: bounded retries, then fail
        log.exception("job %s: unexpected error in generate step", job.pk)
        jobs.release_for_retry(
            job, error_code=failure_code(exc), error_message=f"{type(exc).__name__}: {exc}", delay_s=retry_delay(job)
        )


def _may_wait_for_vendor(job: GenerationJob) -> bool:
    """Whether a vendor's 429 may still defer the job for free: within VENDOR_RATE_LIMIT_MAX_WAIT_S
    of its first start. Past that, 429s count as failed attempts, so a vendor that never lets
    us in cannot keep a job waiting for ever."""
    started = job.started_at or timezone.now()
    return (timezone.now() - started).total_seconds() < settings.VENDOR_RATE_LIMIT_MAX_WAIT_S


def local_model_hooks(job: GenerationJob) -> dict:
    """Step progress and cancel-between-steps for models on our own GPUs (their adapters take
    these keywords; vendor adapters do not)."""
    if job.model.backend_key not in LOCAL_BACKENDS:
        return {}
    return {
        "on_progress": lambda done, total: jobs.record_progress(job, done, total),
        "should_cancel": lambda: not jobs.still_held(job),
    }


def _hand_over_to_media(job: GenerationJob, result: backend_errors.GenerationResult) -> None:
    path = Path(result.video_path)
    size = path.stat().st_size
    if size > settings.MEDIA_MAX_BYTES:
        raise backend_errors.PermanentError(
            f"the backend returned {size} bytes, more than the {settings.MEDIA_MAX_BYTES}-byte limit", code="too_large"
        )
    name = store(path, "originals", path.suffix.lower() or ".mp4")
    committed = False

    def note_committed() -> None:
        nonlocal committed
        committed = True

    try:
        with transaction.atomic():
            handed_over = jobs.finish(
                job,
                JobState.PROCESSING,
                original=name,
                vendor_job_id=result.vendor_job_id,
                vendor_metadata=dict(result.vendor_metadata),
                cost_usd=None if result.cost_usd is None else Decimal(str(result.cost_usd)),
                enqueued_at=None,  # no media message yet: the send notes it, the reaper checks
            )
            if handed_over:
                transaction.on_commit(note_committed)  # runs before the send registered next
                queue.enqueue(queue.PROCESS_CLIP, job.pk)
    except BaseException:
        if not committed and not _names_original(job, name):
            discard(name)
        raise
    if not handed_over:
        discard(name)


def _names_original(job: GenerationJob, name: str) -> bool:
    """Whether the job's row names `name` as its original (a commit that raised may still have
    happened). When the database cannot say, the file is kept: an orphan file costs disk, a
    deleted original a paid-for video."""
    try:
        return GenerationJob.objects.filter(pk=job.pk, original=name).exists()
    except Exception:
        log.exception("job %s: cannot tell whether %s was saved; keeping it", job.pk, name)
        return True


# --- stage 2: the media pipeline -----------------------------------------------------------


def media_step(job_id: int, *, owner: str) -> None:
    job = jobs.claim(job_id, stage=JobState.PROCESSING, owner=owner)
    if job is None:
        log.info("job %s: not claimable for processing", job_id)
        return
    with jobs.kept_alive(job):
        _process(job)


def _process(job: GenerationJob) -> None:
    try:
        _make_clip(job)
    except media.InvalidVideo as exc:
        if is_disk_full(exc) or scratch_space_low(2 * _original_bytes(job)):
            # Not the video's fault: keep the original and try again once there is room.
            jobs.release_for_retry(job, error_code=STORAGE_FULL, error_message=f"{exc}", delay_s=retry_delay(job))
        else:
            _fail_and_discard_original(job, "invalid_output", f"the backend's output was rejected: {exc}")
    except media.FFmpegUnavailable as exc:
        jobs.finish(job, JobState.FAILED, error_code=exc.code, error_message=str(exc))
    except SoftTimeLimitExceeded:  # as in the generate step: retried, and said plainly
        jobs.release_for_retry(
            job, error_code="timed_out", error_message="the media step ran out of time", delay_s=retry_delay(job)
        )
    except Exception as exc:
        log.exception("job %s: media step failed", job.pk)
        code = failure_code(exc)
        jobs.release_for_retry(job, error_code=code, error_message=f"{exc}", delay_s=retry_delay(job))


def _original_bytes(job: GenerationJob) -> int:
    try:
        return default_storage.size(name_of(job.original))
    except (OSError, ValueError, BotoCoreError, ClientError):
        return 0


def _fail_and_discard_original(job: GenerationJob, code: str, message: str) -> None:
    original = job.original.name
    with transaction.atomic():
        if jobs.finish(job, JobState.FAILED, error_code=code, error_message=message, original=""):
            transaction.on_commit(lambda: discard(original))


def _make_clip(job: GenerationJob) -> None:
    if Clip.objects.filter(job=job).exists():  # a previous holder got as far as the Clip row
        jobs.finish(job, JobState.SUCCEEDED)
        return
    if Prompt.objects.filter(pk=job.prompt_id, moderation=ModerationState.REJECTED).exists():
        # A moderator rejected the prompt while the vendor was working: keep nothing.
        original = job.original.name
        with transaction.atomic():
            if jobs.finish(
                job,
                JobState.CANCELLED,
                error_code="prompt_rejected",
                error_message="The prompt was rejected by a moderator.",
                original="",
            ):
                transaction.on_commit(lambda: discard(original))
        return
    tools = media_tools()
    with scratch_dir(f"job{job.pk}-") as workdir:
        source = local_copy(name_of(job.original), workdir)
        original_info = media.validate(source, media_limits(), tools)
        c2pa_present, c2pa_summary = read_c2pa(job, source, original_info)
        sound = media.analyse_audio(source, original_info, tools)
        for note in sound.notes:
            log.warning("job %s: sound of the original: %s", job.pk, note.message)
        web_path, poster_path = workdir / "web.mp4", workdir / "poster.jpg"
        web = media.make_web_rendition(
            source,
            web_path,
            tools=tools,
            max_height=settings.RENDITION_MAX_HEIGHT,
            source=original_info,
            keep_audio=sound.playable,
        )
        media.make_poster(web_path, poster_path, at_s=min(1.0, web.duration_s / 2), tools=tools)
        web_bytes = media.pad_mp4_to_multiple(web_path, settings.BLIND_SIZE_BUCKET_BYTES)
        sha_original, sha_web = media.sha256_file(source), media.sha256_file(web_path)
        stored: list[str] = []
        try:
            stored.append(store(web_path, "clips", ".mp4"))
            stored.append(store(poster_path, "posters", ".jpg"))
            with transaction.atomic():
                locked = (
                    GenerationJob.objects.select_for_update()
                    .filter(pk=job.pk, state=JobState.PROCESSING, lease_owner=job.lease_owner)
                    .first()
                )
                if locked is None or Clip.objects.filter(job=job).exists():
                    raise _LostJob()
                clip = Clip.objects.create(
                    job=job,
                    original=job.original.name,
                    web=stored[0],
                    poster=stored[1],
                    sha256_original=sha_original,
                    sha256_web=sha_web,
                    duration_s=web.duration_s,
                    width=web.width,
                    height=web.height,
                    fps=web.fps,
                    codec=web.codec,
                    bytes=web_bytes,
                    original_bytes=original_info.bytes,
                    original_codec=original_info.codec,
                    c2pa_present=c2pa_present,
                    c2pa_summary=c2pa_summary,
                    has_audio=sound.has_audio,
                    audio=sound.as_dict(),
                )
                jobs.finish(job, JobState.SUCCEEDED)
                measurements.request_measurement(clip.pk)
        except _LostJob:
            log.warning("job %s: another worker finished it first; discarding our files", job.pk)
            discard(*stored)
        except BaseException:
            discard(*stored)
            raise


# C2PA defines embedding for ISO BMFF (MP4/MOV); there is no C2PA binding for Matroska/WebM.
_C2PA_MIME_BY_CONTAINER = {"mov,mp4,m4a,3gp,3g2,mj2": "video/mp4"}


def read_c2pa(job: GenerationJob, source: Path, original: media.VideoInfo) -> tuple[bool | None, dict]:
    """Whether the original as received carries a C2PA manifest, and what it says. None when
    the container has no C2PA binding (not checked). A manifest that cannot be read is stored
    with its error; it never stops the clip."""
    mime_type = _C2PA_MIME_BY_CONTAINER.get(original.container)
    if mime_type is None:
        return None, {"not_checked": f"C2PA manifests are read from MP4/MOV originals, not {original.container}"}
    info = provenance_c2pa.read_manifest(source, mime_type=mime_type)
    if info.error:
        log.warning("job %s: C2PA manifest of the original: %s", job.pk, info.error)
    return info.present, info.summary


class _LostJob(Exception):
    pass
