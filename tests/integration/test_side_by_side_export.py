"""A side-by-side export rendered by a real Celery worker on the media queue: requested through
the page, progress polled, duplicated messages harmless, the file downloaded with Range."""

import json
import subprocess

import pytest

from webapp.catalog.services import load_catalog
from webapp.gallery.models import ExportState, SideBySideExport
from webapp.gallery.services.exports import RENDER
from webapp.studio.models import GenerationJob, JobState, Prompt
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.celery import app

from .conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_worker_renders_the_export_once(client, celery_procs, settings):
    load_catalog()
    worker = celery_procs.worker("itest-export@localhost", queues="generate,media,default", concurrency=2)
    prompt = submit_prompt(PromptInput(text="A lighthouse in a storm", duration_s=2, seed=5), source=Prompt.Source.WEB)
    wait_for(
        lambda: all(j.state == JobState.SUCCEEDED for j in GenerationJob.objects.filter(prompt=prompt)),
        timeout=120,
        what="the demo clips",
        logs=worker.log,
    )
    slugs = sorted(GenerationJob.objects.filter(prompt=prompt).values_list("model__slug", flat=True))

    response = client.post(f"/p/{prompt.public_id}/compare/export", {"models": slugs})
    assert response.status_code == 202
    export = SideBySideExport.objects.get()
    for _ in range(4):  # duplicated messages: the claim lets exactly one render
        app.send_task(RENDER.name, args=[export.pk], queue=RENDER.queue)

    def finished():
        status = client.get(f"/exports/{export.public_id}", HTTP_HX_REQUEST="true")
        return status if status.status_code == 286 else None

    final = wait_for(finished, timeout=120, what="the export", logs=worker.log)
    export.refresh_from_db()
    assert export.state == ExportState.SUCCEEDED, export.error_message
    assert export.attempts == 1 and len(list((settings.MEDIA_ROOT / "exports").iterdir())) == 1
    assert "Download side-by-side MP4" in final.content.decode()

    download = client.get(f"/exports/{export.public_id}/download")
    body = b"".join(download.streaming_content) if download.streaming else download.content
    path = settings.MEDIA_ROOT / "download.mp4"
    path.write_bytes(body)
    probe = json.loads(
        subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,width,height,avg_frame_rate",
                "-of",
                "json",
                str(path),
            ],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    )["streams"][0]
    # 3 clips of a 16:9 prompt: 2x2 tiles of 640x360 plus the caption band.
    assert (probe["codec_name"], probe["width"], probe["height"]) == (
        "h264",
        1280,
        720 + settings.EXPORT_CAPTION_HEIGHT,
    )
    assert probe["avg_frame_rate"] == "24/1"

    # The same selection again: no new row, no new render.
    again = client.post(f"/p/{prompt.public_id}/compare/export", {"models": list(reversed(slugs))})
    assert again.status_code == 200 and SideBySideExport.objects.count() == 1
    assert "render_side_by_side" in worker.log()
