"""How benchmarks/faults.py decides that a run ended correctly: every job terminal in the state
expected, exactly one clip per succeeded job and none otherwise, no lease left on a finished
row, no file in MEDIA_ROOT that no row names and, when media storage is S3 (django-storages),
no object in the bucket that no row names, nothing left running. Django must be set up."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def submit(slug: str | list[str], n: int, text: str = "a slow blue planet") -> list[int]:
    """n prompts for one model, or for each of a list (distinct seeds, so none is a duplicate);
    the job ids."""
    from webapp.studio.models import GenerationJob
    from webapp.studio.services.submission import PromptInput, submit_prompt

    ids = []
    for i in range(n):
        prompt = submit_prompt(
            PromptInput(
                text=f"{text} {i}", models=[slug] if isinstance(slug, str) else slug, duration_s=1, seed=1000 + i
            )
        )
        ids += list(GenerationJob.objects.filter(prompt=prompt).values_list("pk", flat=True))
    return ids


def demo_model(slug: str, **params) -> None:
    from webapp.catalog.models import VideoModel

    VideoModel.objects.update_or_create(
        slug=slug,
        defaults={
            "display_name": slug,
            "vendor": "Screentest demo",
            "backend_key": "demo",
            "is_procedural_demo": True,
            "enabled": True,
            "max_duration_s": 4,
            "backend_params": {"fps": 12, "render_scale": 0.5, **params},
        },
    )


def states(job_ids: list[int]) -> dict[int, str]:
    from webapp.studio.models import GenerationJob

    return dict(GenerationJob.objects.filter(pk__in=job_ids).values_list("pk", "state"))


def wait_terminal(job_ids: list[int], timeout: float) -> float | None:
    """Seconds until every job is terminal, or None when the timeout ran out."""
    from webapp.studio.models import TERMINAL_STATES

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all(s in TERMINAL_STATES for s in states(job_ids).values()):
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def job_problems(job_id: int, expect: set[str]) -> list[str]:
    """What is wrong with how this job ended (empty: it ended correctly)."""
    from webapp.studio.models import TERMINAL_STATES, Clip, GenerationJob, JobState

    job = GenerationJob.objects.get(pk=job_id)
    found = []
    if job.state not in TERMINAL_STATES:
        found.append(f"job {job_id} stuck in {job.state} (lease {job.lease_owner!r} until {job.lease_expires_at})")
    elif job.state not in expect:
        found.append(f"job {job_id} ended {job.state} ({job.error_code}: {job.error_message[:120]})")
    clips = Clip.objects.filter(job_id=job_id).count()
    if clips != (1 if job.state == JobState.SUCCEEDED else 0):
        found.append(f"job {job_id} ({job.state}) has {clips} clips")
    if job.state in TERMINAL_STATES and (job.lease_owner or job.lease_expires_at):
        found.append(f"job {job_id} is {job.state} but still leased by {job.lease_owner!r}")
    return found


def attempts_of(ids: list[int]) -> dict[int, int]:
    from webapp.studio.models import GenerationJob

    return dict(GenerationJob.objects.filter(pk__in=ids).values_list("pk", "attempts"))


def referenced_files() -> set[str]:
    """Every media file name any row names (every FileField of every model)."""
    from django.apps import apps
    from django.db.models import FileField

    names: set[str] = set()
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, FileField):
                names.update(n for n in model.objects.values_list(f.name, flat=True) if n)
    return names


def orphan_files(media_root: Path) -> list[str]:
    """Files under MEDIA_ROOT that no row names (partial files included) and, when media
    storage is a bucket, its objects that no row names (as `s3://bucket/key`)."""
    named = referenced_files()
    found = []
    for dirpath, _dirs, files in os.walk(media_root):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), media_root)
            if rel not in named:
                found.append(rel)
    found += orphan_objects(named)
    return sorted(found)


def orphan_objects(named: set[str] | None = None) -> list[str]:
    """Objects of the media bucket that no row names, as `s3://bucket/key`; none when media
    storage is not S3-style. Every key under the storage's `location` is listed (a write that
    failed half-way leaves at most a complete object: S3 has no partial objects)."""
    from django.core.files.storage import default_storage

    from webapp.core import object_storage

    if not object_storage.is_object_storage():
        return []
    named = referenced_files() if named is None else named
    storage: Any = default_storage
    prefix = storage.location.strip("/")
    prefix = f"{prefix}/" if prefix else ""
    found = []
    for obj in storage.bucket.objects.filter(Prefix=prefix):
        if obj.key[len(prefix) :] not in named:
            found.append(f"s3://{storage.bucket_name}/{obj.key}")
    return found


def stuck_rows() -> list[str]:
    """Rows of any kind left waiting or leased at the end."""
    from webapp.gallery.models import SideBySideExport
    from webapp.studio.models import TERMINAL_STATES, GenerationJob

    found = [
        f"job {pk} {s}" for pk, s in GenerationJob.objects.exclude(state__in=TERMINAL_STATES).values_list("pk", "state")
    ]
    for export in SideBySideExport.objects.all():
        if not export.is_terminal:
            found.append(f"export {export.pk} {export.state}")
    return found


def processes_running(pattern: str) -> list[int]:
    """Pids whose command line contains pattern (a hung ffmpeg script left behind)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if pattern in cmdline:
                pids.append(int(entry))
    return pids
