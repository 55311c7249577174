"""Scale past one machine (issue 16, item 3): two worker "hosts" that share nothing but the
database, the broker and an S3 bucket served by a real S3-compatible server process.

Host A consumes only the generation queue and host B only the media queue, each with its own
DATA_DIR, MEDIA_ROOT and scratch WORK_DIR, so a prompt's original can reach the media step only
through the bucket and its job only through the database. The web then serves the clip from
the bucket with Range. On the embedded stack the broker and the file cache are folders in the
run's DATA_DIR (that stack's transport is a shared folder), so there the hosts keep the run's
DATA_DIR and get their own MEDIA_ROOT and WORK_DIR; the database is the shared SQLite file."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.conftest import EMBEDDED
from webapp.catalog.services import load_catalog
from webapp.gallery.models import ExportState, SideBySideExport
from webapp.moderation import decisions
from webapp.studio.models import Clip, GenerationJob, JobState

from .conftest import ROOT, require_test_stack, wait_for
from .s3_server import s3_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

MODELS = ["demo-aurora", "demo-pixel"]


def host_environment(root: Path, *, own_data_dir: bool) -> dict[str, str]:
    env = {"MEDIA_ROOT": str(root / "media"), "WORK_DIR": str(root / "work")}
    if own_data_dir:
        env["DATA_DIR"] = str(root)
    return env


def succeeded(log: str, task: str) -> int:
    """How many runs of `task` a worker's log says succeeded (Celery's INFO line per task)."""
    return len(re.findall(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded", log))


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_prompt_generated_on_one_host_is_processed_on_another_through_s3(
    client, celery_procs, s3_server, settings, tmp_path_factory
):
    stack = require_test_stack()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting()}  # the web's storage
    load_catalog()
    host_a, host_b = tmp_path_factory.mktemp("host-a"), tmp_path_factory.mktemp("host-b")
    own = stack != EMBEDDED
    worker_a = celery_procs.worker(
        "host-a@localhost",
        queues="generate",
        env={**s3_server.environment(), **host_environment(host_a, own_data_dir=own)},
    )
    worker_b = celery_procs.worker(
        "host-b@localhost",
        queues="media",
        env={**s3_server.environment(), **host_environment(host_b, own_data_dir=own)},
    )

    created = client.post(
        "/api/v1/prompts",
        data=json.dumps({"prompt": "a lighthouse in a storm at night", "models": MODELS, "duration_s": 2, "seed": 3}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    wait_for(
        lambda: all(job.is_terminal for job in GenerationJob.objects.all()),
        timeout=90,
        what="both clips",
        logs=celery_procs.logs,
    )
    jobs = list(GenerationJob.objects.select_related("clip", "model").order_by("model__slug"))
    assert [(j.model.slug, j.state) for j in jobs] == [(slug, JobState.SUCCEEDED) for slug in sorted(MODELS)], [
        j.error_message for j in jobs
    ]

    # Each step ran on its own host: A generated both, B processed both.
    log_a, log_b = worker_a.log(), worker_b.log()
    assert succeeded(log_a, "studio.generate") == len(MODELS) and "Task studio.process_clip[" not in log_a
    assert succeeded(log_b, "studio.process_clip") == len(MODELS) and "Task studio.generate[" not in log_b

    # B also measures each clip (studio.measure_clip, media queue) from its own scratch copy of
    # the original, which it removes when done: wait for that before looking at the disks.
    wait_for(
        lambda: all(clip.measurements_version > 0 for clip in Clip.objects.all()),
        timeout=90,
        what="the clips' measurements",
        logs=celery_procs.logs,
    )

    # Every stored file is an object in the bucket, and on neither host's disk.
    names = {name for j in jobs for name in (j.clip.original.name, j.clip.web.name, j.clip.poster.name)}
    assert len(names) == 3 * len(MODELS) and names <= s3_server.keys()
    for host in (host_a, host_b):
        assert files_under(host) == [], f"{host.name} kept files that belong in the bucket"
    assert not settings.MEDIA_ROOT.exists() or files_under(settings.MEDIA_ROOT) == []

    # The web serves a clip from the bucket: whole, and by Range with the right bytes.
    clip = jobs[0].clip
    stored = s3_server.read(clip.web.name)
    assert hashlib.sha256(stored).hexdigest() == clip.sha256_web
    whole = client.get(f"/media/{clip.web.name}")
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == stored and int(whole["Content-Length"]) == len(stored)
    middle = client.get(f"/media/{clip.web.name}", HTTP_RANGE="bytes=1000-5095")
    assert middle.status_code == 206 and middle["Content-Range"] == f"bytes 1000-5095/{len(stored)}"
    assert b"".join(middle.streaming_content) == stored[1000:5096] and middle["Content-Length"] == "4096"
    tail = client.get(f"/media/{clip.web.name}", HTTP_RANGE="bytes=-100")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == stored[-100:]
    beyond = client.get(f"/media/{clip.web.name}", HTTP_RANGE=f"bytes={len(stored)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(stored)}"
    cached = client.get(f"/media/{clip.web.name}", HTTP_IF_NONE_MATCH=whole["ETag"])
    assert cached.status_code == 304
    poster = client.get(f"/media/{clip.poster.name}")
    assert poster.status_code == 200 and b"".join(poster.streaming_content) == s3_server.read(clip.poster.name)
    assert client.get("/media/clips/" + "x" * 24 + ".mp4").status_code == 404  # no such object

    # A side-by-side export renders on the media host from the bucket's clips, into the bucket.
    prompt = jobs[0].prompt
    assert client.post(f"/p/{prompt.public_id}/compare/export", {"models": sorted(MODELS)}).status_code == 202
    wait_for(lambda: SideBySideExport.objects.get().is_terminal, timeout=90, what="the export", logs=celery_procs.logs)
    export = SideBySideExport.objects.get()
    assert export.state == ExportState.SUCCEEDED, export.error_message
    assert export.file.name.startswith("exports/") and export.file.name in s3_server.keys()
    assert succeeded(worker_b.log(), "gallery.render_side_by_side") == 1
    exported = s3_server.read(export.file.name)
    download = client.get(f"/exports/{export.public_id}/download", HTTP_RANGE="bytes=0-99")
    assert download.status_code == 206 and download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == exported[:100]

    # A moderator's rejection deletes the prompt's media from the bucket, not from a disk.
    moderator = User.objects.create_user("moderator")
    decisions.reject_prompt(prompt.public_id, actor=moderator, reason="test: media must leave the bucket")
    assert not names & s3_server.keys()
    for host in (host_a, host_b):
        assert files_under(host) == []


def test_hosts_environment_builds_the_storage_the_web_uses(s3_server):
    """The worker hosts get S3 through the environment (.env.example), the test's web through
    storage_setting(): webapp/settings.py must turn the one into the other, or the test above
    would compare two different storages."""
    script = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, **s3_server.environment()},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == s3_server.storage_setting()
