"""Side-by-side MP4 exports: request (cached by selection), claim under a lease, render.

The row is the truth; a Celery message only says "look at export N". Every transition is one
conditional UPDATE, so a duplicated message renders nothing twice: whoever's UPDATE matched
the row renders, everyone else returns."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from webapp.core import leases
from webapp.core.media_tools import media_tools
from webapp.core.storage import delete_stored, failure_code, local_copy, name_of, scratch_dir, store
from webapp.core.tasks import TaskRoute, send_on_commit
from webapp.studio.models import GenerationJob, Prompt
from webapp.studio.services.jobs import UNSENT_GRACE_S
from workers import media

from ..models import ExportState, SideBySideExport

log = logging.getLogger(__name__)

RENDER = TaskRoute("gallery.render_side_by_side", queue="media")
REAP_STALE_EXPORTS = TaskRoute("gallery.reap_stale_exports")
PROGRESS_EVERY_S = 0.5


def selection_key(prompt: Prompt, clip_ids: list[str]) -> str:
    return hashlib.sha256(f"{prompt.public_id}|{','.join(sorted(clip_ids))}".encode()).hexdigest()


def layout_for(prompt: Prompt) -> media.SideBySideLayout:
    """Tiles share the prompt's aspect ratio at EXPORT_TILE_HEIGHT (even sides)."""
    try:
        w, h = (float(x) for x in prompt.aspect_ratio.split(":"))
        ratio = w / h if w > 0 and h > 0 else 16 / 9
    except ValueError:
        ratio = 16 / 9
    height = settings.EXPORT_TILE_HEIGHT
    width = max(2, int(height * ratio) // 2 * 2)
    return media.SideBySideLayout(
        tile_width=width,
        tile_height=height,
        fps=settings.EXPORT_FPS,
        caption_height=settings.EXPORT_CAPTION_HEIGHT,
        font_file=settings.EXPORT_FONT_FILE,
    )


def request_export(prompt: Prompt, jobs: list[GenerationJob]) -> tuple[SideBySideExport, bool]:
    """The export of these clips, created and queued if new. A failed export, or one whose
    worker died (lease expired), is queued again; a finished one is returned as it is."""
    strays = [job.pk for job in jobs if job.prompt_id != prompt.pk]
    if strays:  # the export's page, key and file are the prompt's: other prompts' clips never join
        raise ValueError(f"jobs {strays} are not results of prompt {prompt.public_id}")
    clip_ids = [job.clip.public_id for job in jobs]
    key = selection_key(prompt, clip_ids)
    existing = SideBySideExport.objects.filter(selection_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                export = SideBySideExport.objects.create(selection_key=key, prompt=prompt, clips=clip_ids)
                _enqueue(export.pk)
            return export, True
        except IntegrityError:  # someone asked for the same selection at the same moment
            existing = SideBySideExport.objects.get(selection_key=key)
    stale = (
        Q(state=ExportState.FAILED)
        | Q(state=ExportState.RUNNING, lease_expires_at__lt=timezone.now())
        | Q(state=ExportState.QUEUED, created_at__lt=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_STALE_S))
    )
    with transaction.atomic():
        if SideBySideExport.objects.filter(stale, pk=existing.pk).update(
            state=ExportState.QUEUED,
            attempts=0,
            progress=0,
            error_code="",
            error_message="",
            lease_owner="",
            lease_expires_at=None,
        ):
            _enqueue(existing.pk)
    existing.refresh_from_db()
    return existing, False


def _enqueue(export_id: int) -> None:
    """Send the render after commit and note when (or that it could not be sent)."""

    def sent() -> None:
        SideBySideExport.objects.filter(pk=export_id).update(enqueued_at=timezone.now())

    def not_sent() -> None:
        SideBySideExport.objects.filter(pk=export_id).update(enqueued_at=None)

    send_on_commit(RENDER, export_id, then=sent, otherwise=not_sent)


def reap_stale_exports() -> dict:
    """Beat task body, as the studio's job reaper: an export whose worker died (lease run out)
    is queued again and sent, or failed once its attempts are used up; a queued export whose
    message was never sent, or sent longer ago than JOB_QUEUED_STALE_S, is sent again."""
    now = timezone.now()
    report = {"resent": 0, "failed": 0}
    dead = SideBySideExport.objects.filter(state=ExportState.RUNNING, lease_expires_at__lt=now)
    for export_id, attempts in dead.values_list("pk", "attempts"):
        still_dead = SideBySideExport.objects.filter(pk=export_id, state=ExportState.RUNNING, lease_expires_at__lt=now)
        if attempts >= settings.JOB_MAX_ATTEMPTS:
            report["failed"] += still_dead.update(
                state=ExportState.FAILED,
                error_code="attempts_exhausted",
                error_message=f"the worker stopped responding {attempts} times; giving up",
                lease_owner="",
                lease_expires_at=None,
                finished_at=now,
            )
            continue
        with transaction.atomic():
            if still_dead.update(state=ExportState.QUEUED, lease_owner="", lease_expires_at=None, enqueued_at=None):
                _enqueue(export_id)
                report["resent"] += 1
    lost = SideBySideExport.objects.filter(state=ExportState.QUEUED).filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - timedelta(seconds=UNSENT_GRACE_S))
        | Q(enqueued_at__lt=now - timedelta(seconds=settings.JOB_QUEUED_STALE_S))
    )
    for export_id in lost.values_list("pk", flat=True):
        with transaction.atomic():
            SideBySideExport.objects.filter(pk=export_id).update(enqueued_at=now)  # quiet until sent again
            _enqueue(export_id)
        report["resent"] += 1
    if report["resent"] or report["failed"]:
        log.info("export reaper: %s", report)
    return report


def claim(export_id: int, owner: str) -> SideBySideExport | None:
    now = timezone.now()
    claimable = Q(state=ExportState.QUEUED) | Q(state=ExportState.RUNNING, lease_expires_at__lt=now)
    rows = SideBySideExport.objects.filter(pk=export_id)
    if not leases.claim(
        rows, claimable=claimable, owner=owner, counter="attempts", state=ExportState.RUNNING, progress=0
    ):
        return None
    return SideBySideExport.objects.select_related("prompt").get(pk=export_id)


def _held(export: SideBySideExport):
    return SideBySideExport.objects.filter(pk=export.pk, state=ExportState.RUNNING, lease_owner=export.lease_owner)


def _fail(export: SideBySideExport, code: str, message: str) -> None:
    _held(export).update(
        state=ExportState.FAILED,
        error_code=code,
        error_message=message[:4000],
        lease_owner="",
        lease_expires_at=None,
        finished_at=timezone.now(),
    )


def _progress_reporter(export: SideBySideExport):
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _held(export).update(progress=round(min(fraction, 0.99), 3))

    return report


def _clip_sources(export: SideBySideExport, workdir: Path) -> tuple[list[Path], list[str]]:
    jobs = {
        job.clip.public_id: job
        for job in GenerationJob.objects.filter(prompt=export.prompt, clip__public_id__in=export.clips).select_related(
            "clip", "model"
        )
    }
    missing = [cid for cid in export.clips if cid not in jobs]
    if missing:
        raise LookupError(f"{len(missing)} of the chosen clips no longer exist")
    paths = [local_copy(name_of(jobs[cid].clip.web), workdir, stem=f"in{i}") for i, cid in enumerate(export.clips)]
    return paths, [jobs[cid].model.label for cid in export.clips]


def render_step(export_id: int, *, owner: str) -> None:
    export = claim(export_id, owner)
    if export is None:
        log.info("export %s: not claimable (finished, held elsewhere or out of attempts)", export_id)
        return
    with leases.kept_alive(_held(export)):
        _render(export)


def _render(export: SideBySideExport) -> None:
    stored = ""
    with scratch_dir(f"export{export.pk}-") as workdir:
        try:
            sources, labels = _clip_sources(export, workdir)
            out = workdir / "side-by-side.mp4"
            info = media.make_side_by_side(
                sources,
                labels,
                export.prompt.text,
                out,
                layout=layout_for(export.prompt),
                tools=media_tools(),
                on_progress=_progress_reporter(export),
            )
            stored = store(out, "exports", ".mp4")
            done = _held(export).update(
                state=ExportState.SUCCEEDED,
                progress=1.0,
                file=stored,
                width=info.width,
                height=info.height,
                bytes=info.bytes,
                lease_owner="",
                lease_expires_at=None,
                finished_at=timezone.now(),
            )
            if not done:
                log.warning("export %s: lost the lease; discarding our file", export.pk)
                delete_stored(stored)
        except LookupError as exc:
            _fail(export, "clip_missing", str(exc))
        except media.MediaError as exc:
            delete_stored(stored)
            _fail(export, failure_code(exc), str(exc))
        except Exception as exc:
            log.exception("export %s failed", export.pk)
            delete_stored(stored)
            _fail(export, failure_code(exc), f"{type(exc).__name__}: {exc}")
