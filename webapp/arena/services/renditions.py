"""The battle's own renditions of its two clips, made by a worker on the "arena" queue.

Both clips of every battle of a prompt get one shape (shape_for): the same canvas (the prompt's
aspect ratio at ARENA_CANVAS_SHORT_SIDE, each clip scaled and letter- or pillar-boxed), the same
frame rate (ARENA_FPS: slower clips have frames repeated, so judder stays visible), the same
frame count (the prompt's duration: a shorter clip holds its last frame, a longer one is cut),
an audio track of one layout (the source's sound loudness-normalised, or silence). The encoding
is constant rate down to each frame, with filler (workers/media/arena.py), so every byte count,
header and box of one battle's two files is the same, and the same as any other battle of that
shape; per-battle noise makes the coded bytes of every battle unique. The shape depends only on
the prompt, so it is the same whenever each clip arrived.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.core import leases
from webapp.core.media_tools import media_tools
from webapp.core.storage import delete_stored, local_copy, scratch_dir, store
from webapp.core.tasks import TaskRoute, send_on_commit
from webapp.studio.models import Clip, Prompt
from workers import media

from ..models import Battle, BattleState

log = logging.getLogger(__name__)

RENDER_BATTLE = TaskRoute("arena.render_battle", queue="arena")
TIDY_BATTLES = TaskRoute("arena.tidy_battles")
SIDES = ("left", "right")


def request(battle: Battle) -> None:
    send_on_commit(RENDER_BATTLE, battle.pk)


def canvas_for(aspect_ratio: str) -> tuple[int, int]:
    """(width, height): the aspect ratio with its short side ARENA_CANVAS_SHORT_SIDE, even."""
    short = settings.ARENA_CANVAS_SHORT_SIDE
    try:
        w, h = (float(x) for x in aspect_ratio.split(":"))
    except ValueError:
        w, h = 16.0, 9.0
    if w <= 0 or h <= 0:
        w, h = 16.0, 9.0
    if w >= h:
        return int(round(short * w / h / 2)) * 2, short
    return short, int(round(short * h / w / 2)) * 2


def shape_for(prompt: Prompt) -> media.ArenaShape:
    width, height = canvas_for(prompt.aspect_ratio)
    fps = settings.ARENA_FPS
    return media.ArenaShape(
        width=width,
        height=height,
        fps=fps,
        frames=max(1, int(round(prompt.duration_s * fps))),
        video_bitrate=int(settings.ARENA_BITS_PER_PIXEL * width * height * fps),
        audio_bitrate=settings.ARENA_AUDIO_BITRATE,
        loudness_lufs=settings.ARENA_LOUDNESS_LUFS,
        true_peak_dbtp=settings.ARENA_TRUE_PEAK_DBTP,
    )


def _source_name(clip: Clip) -> str:
    """The clip as received (highest quality, with its sound), else its web rendition."""
    return clip.original.name or clip.web.name or ""


def _claim(battle_id: int, owner: str) -> Battle | None:
    now = timezone.now()
    rows = Battle.objects.filter(pk=battle_id)
    claimable = Q(state=BattleState.PREPARING) & leases.expired(now)
    if not leases.claim(rows, claimable=claimable, owner=owner, counter="render_attempts"):
        return None
    return Battle.objects.select_related("prompt", "left", "right").get(pk=battle_id)


def _held(battle: Battle):
    return Battle.objects.filter(pk=battle.pk, state=BattleState.PREPARING, lease_owner=battle.lease_owner)


def render(battle_id: int, *, owner: str) -> None:
    """Make and store both renditions, then mark the battle ready (if we still hold it)."""
    battle = _claim(battle_id, owner)
    if battle is None:
        log.info("battle %s: not claimable (ready, finished, held elsewhere or out of attempts)", battle_id)
        return
    with leases.kept_alive(_held(battle)):
        _render(battle)


def _render(battle: Battle) -> None:
    shape = shape_for(battle.prompt)
    stored: list[str] = []
    with scratch_dir(f"battle{battle.pk}-") as workdir:
        try:
            info = None
            for side in SIDES:
                clip: Clip = getattr(battle, side)
                source = local_copy(_source_name(clip), workdir, stem=f"{side}-source")
                dest = workdir / f"{side}.mp4"
                info = media.make_arena_rendition(
                    source, dest, shape=shape, seed=secrets.randbelow(2**31), tools=media_tools()
                )
                stored.append(store(dest, "battles", ".mp4"))
            with transaction.atomic():
                done = _held(battle).update(
                    state=BattleState.READY,
                    left_media=stored[0],
                    right_media=stored[1],
                    duration_s=info.duration_s if info else None,
                    lease_owner="",
                    lease_expires_at=None,
                )
            if not done:
                log.warning("battle %s: lost the lease; discarding our renditions", battle.pk)
                delete_stored(*stored)
        except media.MediaError as exc:
            log.warning("battle %s: renditions failed: %s", battle.pk, exc.detail or exc)
            delete_stored(*stored)
            _held(battle).update(
                state=BattleState.FAILED, error_code=exc.code, finished_at=timezone.now(), lease_owner=""
            )
        except BaseException:
            delete_stored(*stored)
            raise


def tidy() -> dict[str, int]:
    """Periodic: re-request renditions that lost their worker or message, close battles
    nobody came back for, and delete the renditions of battles that ended (their bytes are
    never served again) after BATTLE_MAX_AGE_S."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.BATTLE_MAX_AGE_S)
    report = {"resent": 0, "failed": 0, "closed": 0, "files_deleted": 0}
    lost = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, created_at__lt=now - timedelta(seconds=60))
    preparing = Battle.objects.filter(lost, state=BattleState.PREPARING, created_at__gte=stale)
    report["failed"] = preparing.filter(render_attempts__gte=settings.JOB_MAX_ATTEMPTS).update(
        state=BattleState.FAILED, error_code="attempts_exhausted", finished_at=now
    )
    stuck = preparing.filter(render_attempts__lt=settings.JOB_MAX_ATTEMPTS)
    for battle in stuck.only("pk"):
        with transaction.atomic():
            request(battle)
        report["resent"] += 1
    report["closed"] = Battle.objects.filter(
        state__in=(BattleState.PREPARING, BattleState.READY), created_at__lt=stale
    ).update(state=BattleState.SKIPPED, finished_at=now)
    old = Battle.objects.filter(created_at__lt=stale).exclude(left_media="", right_media="")
    for battle_id, left, right in old.values_list("pk", "left_media", "right_media")[:1000]:
        delete_stored(left, right)
        Battle.objects.filter(pk=battle_id).update(left_media="", right_media="")
        report["files_deleted"] += 2
    if any(report.values()):
        log.info("battles tidied: %s", report)
    return report
