"""Provenance: a clip made by the real pipeline (real ffmpeg) gets a page with an
"AI-generated" label and its record; the named original's download carries that record in its
metadata, while the stored original is untouched and the blind rendition stays stripped."""

import json
import subprocess

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client

from tests.arena_support import start_voting
from tests.conftest import record_sent
from webapp.arena.models import NamedView
from webapp.moderation.decisions import reject_prompt
from webapp.studio.models import Clip, Prompt
from webapp.studio.services import originals, pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers import media

pytestmark = pytest.mark.django_db


def format_tags(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)["format"].get("tags", {})


@pytest.fixture
def sent(monkeypatch):
    messages = []
    record_sent(monkeypatch, lambda name, args, countdown: messages.append((name, args)))
    return messages


@pytest.fixture
def clip(demo_models, media_root, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(
            PromptInput(text="a lighthouse in a storm", duration_s=1.5, seed=9, models=[demo_models[0].slug])
        )
    job = prompt.jobs.get()
    pipeline.generate_step(job.pk, owner="g pid 1")
    pipeline.media_step(job.pk, owner="m pid 1")
    return Clip.objects.select_related("job__model").get()


def test_clip_page_shows_the_label_and_the_record(clip):
    client = Client()
    start_voting(client)  # a voter: the named view is recorded (a mere visitor leaves no row)
    page = client.get(f"/c/{clip.public_id}").content.decode()
    assert "AI-generated" in page and "data-ai-label" in page
    for value in (
        clip.sha256_original,
        clip.sha256_web,
        clip.job.model.backend_key,
        clip.job.vendor_job_id,
        clip.job.model.display_name,
        "seed 9",
    ):
        assert value and value in page
    assert "data-c2pa" in page
    # The page names the model, so this visitor's later votes on the prompt are set aside.
    assert NamedView.objects.filter(prompt=clip.job.prompt).exists()


def test_the_web_request_never_runs_ffmpeg_the_media_queue_makes_the_copy_once(
    clip, sent, media_root, django_capture_on_commit_callbacks
):
    """GET /c/<id>/original used to re-mux up to 500 MB inside every request. Now the first
    request sends one task to the media queue and answers 202; a crowd sends one message; the
    file is made once and then only served."""
    sent.clear()
    before = set(media_root.rglob("*"))
    with django_capture_on_commit_callbacks(execute=True):
        first = [Client().get(f"/c/{clip.public_id}/original") for _ in range(5)]
    assert {r.status_code for r in first} == {202} and first[0]["Retry-After"] == "5"
    assert sent == [("studio.tag_original", [clip.pk])]  # one message, however many asked
    assert set(media_root.rglob("*")) == before  # the requests made no file
    name = originals.make_tagged_original(clip.pk)
    assert name and Clip.objects.get(pk=clip.pk).tagged_original.name == name
    assert originals.make_tagged_original(clip.pk) is None  # made once
    assert Client().get(f"/c/{clip.public_id}/original").status_code == 200


def test_a_rejected_prompt_deletes_the_tagged_copy(clip, media_root, django_capture_on_commit_callbacks):
    name = originals.make_tagged_original(clip.pk)
    assert (media_root / name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        reject_prompt(clip.job.prompt.public_id, actor=User.objects.create_user("m"), reason="not allowed here")
    assert not (media_root / name).exists()


def test_download_carries_the_provenance_and_the_stored_original_is_untouched(clip, tmp_path):
    original_before = media.sha256_file(default_storage.path(clip.original.name))
    originals.make_tagged_original(clip.pk)
    response = Client().get(f"/c/{clip.public_id}/original")
    assert response.status_code == 200
    assert f'filename="screentest-{clip.job.model.slug}-{clip.public_id}' in response["Content-Disposition"]
    download = tmp_path / "download.mp4"
    download.write_bytes(b"".join(response.streaming_content))
    record = json.loads(format_tags(download)["comment"])
    assert record["label"] == "AI-generated"
    assert record["original"]["sha256"] == clip.sha256_original == original_before
    assert record["generator"]["backend"] == clip.job.model.backend_key
    assert record["generator"]["vendor_job_id"] == clip.job.vendor_job_id
    assert record["settings"]["seed"] == 9
    assert media.probe(download).frame_count == media.probe(default_storage.path(clip.original.name)).frame_count
    assert media.sha256_file(default_storage.path(clip.original.name)) == original_before
    # The blind rendition carries no such record (nor any other tag naming the source).
    assert "comment" not in format_tags(default_storage.path(clip.web.name))
    assert list((tmp_path.parent).glob("**/provenance-*")) == []  # no scratch copies left behind


def test_hidden_or_unknown_clips_have_no_page_or_download(clip):
    Clip.objects.filter(pk=clip.pk).update(hidden=True)
    client = Client()
    assert client.get(f"/c/{clip.public_id}").status_code == 404
    assert client.get(f"/c/{clip.public_id}/original").status_code == 404
    assert client.get("/c/nope").status_code == 404
    Clip.objects.filter(pk=clip.pk).update(hidden=False)
    Prompt.objects.update(moderation="held")
    assert client.get(f"/c/{clip.public_id}").status_code == 404
