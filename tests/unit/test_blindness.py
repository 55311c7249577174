"""Nothing a voter can see or fetch before voting may reveal which model made a clip: not the
page, not its JSON, not a media URL, not a response header, not the file's bytes or metadata.
Clips come from the real pipeline (real ffmpeg) for every registered backend, plus a fake
vendor whose originals carry identifying container metadata."""

import json
import re
import subprocess

import pytest
from django.conf import settings

from tests.conftest import record_sent
from tests.fakes import backends as fakes
from webapp.arena.models import Battle
from webapp.arena.services import battles
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, JobState, Prompt
from webapp.studio.services import pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import registry

pytestmark = pytest.mark.django_db

LEAKY_ENCODER_STRINGS = [b"x264", b"Lavf", b"Lavc", b"VENDORX", b"secret-model"]


@pytest.fixture
def every_backend(demo_models, media_root, monkeypatch, django_capture_on_commit_callbacks):
    """One suite prompt, rendered by a model of every registered backend (catalog entries)
    plus a fake vendor, through both worker stages in-process."""
    record_sent(monkeypatch, lambda *a: None)
    monkeypatch.setitem(registry.BACKENDS, "fake-vendor", "tests.fakes.backends.TestPattern")
    registry.backend_class.cache_clear()
    VideoModel.objects.create(
        slug="vendorx-gen3",
        display_name="VendorX Gen-3",
        vendor="VendorX Inc",
        backend_key="fake-vendor",
        backend_params={"base_width": 320, "base_height": 180},
    )
    covered = set(VideoModel.objects.values_list("backend_key", flat=True))
    assert set(registry.BACKENDS) <= covered, f"no catalog model for backends {set(registry.BACKENDS) - covered}"
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="a red fox in fresh snow", duration_s=1.5, seed=5))
    Prompt.objects.filter(pk=prompt.pk).update(pool="official")
    for job in prompt.jobs.all():
        pipeline.generate_step(job.pk, owner="g pid 1")
        pipeline.media_step(job.pk, owner="m pid 1")
    assert set(prompt.jobs.values_list("state", flat=True)) == {JobState.SUCCEEDED}
    yield list(VideoModel.objects.all())
    registry.backend_class.cache_clear()


def identifying_strings(models) -> list[str]:
    strings = []
    for model in models:
        strings += [model.slug, model.display_name, model.vendor, model.backend_key]
    for clip in Clip.objects.all():
        strings += [
            clip.public_id,
            clip.web.name,
            clip.poster.name,
            clip.original.name,
            clip.sha256_web,
            clip.sha256_original,
        ]
    return [s for s in strings if s]


def assert_names_nothing(text: str, strings: list[str], where: str):
    for s in strings:
        assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text, re.IGNORECASE), (
            f"{where} reveals {s!r}"
        )


def test_battle_pages_json_urls_headers_and_files_name_no_model(client, every_backend):
    strings = identifying_strings(every_backend)
    gallery_etags = {}
    for clip in Clip.objects.all():
        gallery_etags[clip.web.name] = client.get(f"/media/{clip.web.name}")["ETag"]
    served = 0
    while True:
        page = client.get("/arena")
        html = page.content.decode()
        if "data-battle" not in html:
            break
        served += 1
        assert_names_nothing(html, strings, "the battle page")
        token = html.split('name="token" value="')[1].split('"')[0]
        battle = Battle.objects.get(public_id=battles.unsign(token)["b"])
        for side, clip in (("left", battle.left), ("right", battle.right)):
            url = f"/arena/b/{battle.public_id}/{side}.mp4"
            assert url in html
            response = client.get(url)
            body = b"".join(response.streaming_content)
            headers = json.dumps(dict(response.headers))
            assert_names_nothing(headers, strings, f"the {side} media headers")
            assert "Last-Modified" not in response.headers
            assert response["ETag"] != gallery_etags[clip.web.name]
            assert len(body) % settings.BLIND_SIZE_BUCKET_BYTES == 0, "sizes are bucketed"
            for leak in LEAKY_ENCODER_STRINGS + [s.encode() for s in strings]:
                assert leak not in body, f"the {side} file contains {leak!r}"
            path = settings.MEDIA_ROOT / clip.web.name
            tags = json.loads(
                subprocess.run(
                    ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                    capture_output=True,
                    check=True,
                    timeout=30,
                ).stdout
            )
            tags["format"].pop("filename")  # ffprobe echoes the path we gave it
            assert_names_nothing(json.dumps(tags), strings, f"the {side} file's metadata")
    assert served == 6  # 4 models -> 6 pairs, each served once
    api = client.get("/api/v1/battles/next")
    assert api.status_code == 404  # exhausted for this voter; a fresh one gets JSON:
    from django.test import Client

    fresh = Client().get("/api/v1/battles/next")
    assert fresh.status_code == 200
    assert_names_nothing(fresh.content.decode(), strings, "the battle JSON")


def test_originals_keep_the_vendor_metadata_but_are_never_served(client, every_backend):
    vendor_clip = Clip.objects.get(job__model__slug="vendorx-gen3")
    assert b"VENDORX" in (settings.MEDIA_ROOT / vendor_clip.original.name).read_bytes()
    assert client.get(f"/media/{vendor_clip.original.name}").status_code == 404
    assert fakes.CALLS.count("TestPattern") >= 1
