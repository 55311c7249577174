"""Nothing a voter can see or fetch before voting may reveal which model made a clip: not the
page, its JSON, a media URL, a response header, the file's bytes, metadata, size, frame rate or
box layout.

Clips come from the real pipeline (real ffmpeg) for every backend: the three procedural demo
models, every vendor adapter still served against its fake server, each fake serving a video of its own
resolution, frame rate, duration, sound and encoder (tests/fakes/signatures.py), and a fake
vendor whose originals name it in their container metadata. Battles are served through the real
pages and their files fetched as a browser would. The property is stronger than "a classifier
does no better than chance" (benchmarks/blind_leak.py measures that): every non-visual feature
of every served file is the same, whichever two models made the battle."""

import hashlib
import json
import re
import subprocess

import pytest
from django.conf import settings
from django.test import Client

from tests.arena_support import served_battle, start_voting
from tests.conftest import record_sent
from tests.fakes import backends as fakes
from tests.fakes.all_vendors import VENDORS, catalog_entry
from tests.fakes.contract import vendor_env  # noqa: F401  (the fixture)
from tests.fakes.signatures import SIGNATURES, signature_video
from webapp.arena.models import Battle
from webapp.catalog.models import VideoModel
from webapp.studio.models import Clip, JobState, Prompt
from webapp.studio.services import pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import registry
from workers.backends.capabilities import retirement
from workers.media import mp4

pytestmark = pytest.mark.django_db

# Every vendor adapter whose model can still be asked (the direct Sora adapter is retired).
LIVE_VENDORS = [key for key, (_slug, _cls, _prefix, params) in VENDORS.items() if retirement(key, params) is None]
LEAKY_ENCODER_STRINGS = [b"Lavf", b"Lavc", b"VENDORX", b"secret-model", b"x265", b"mpeg4"]
# Headers that differ by request, not by clip: the date, and the ETag (derived from the
# battle and side, so it names neither the clip nor the model).
PER_REQUEST_HEADERS = {"Date", "ETag"}


@pytest.fixture
def every_backend(demo_models, media_root, monkeypatch, vendor_env, django_capture_on_commit_callbacks):
    """One official prompt, made by a model of every backend, through both worker stages."""
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
    for signature, key in zip(SIGNATURES, LIVE_VENDORS):
        fake = vendor_env.start(key)
        fake.output_video = signature_video(signature)
        VideoModel.objects.create(**catalog_entry(key, fake))
    with django_capture_on_commit_callbacks(execute=False):
        prompt = submit_prompt(PromptInput(text="a red fox in fresh snow", duration_s=4, seed=5))
    Prompt.objects.filter(pk=prompt.pk).update(pool="official")
    for job in prompt.jobs.all():
        pipeline.generate_step(job.pk, owner="g pid 1")
        pipeline.media_step(job.pk, owner="m pid 1")
    states = dict(prompt.jobs.values_list("model__slug", "state"))
    assert set(states.values()) == {JobState.SUCCEEDED}, states
    assert len(states) == 3 + 1 + len(LIVE_VENDORS)
    yield list(VideoModel.objects.filter(jobs__prompt=prompt))
    registry.backend_class.cache_clear()


def identifying_strings(models) -> list[str]:
    strings = []
    for model in models:
        strings += [model.slug, model.display_name, model.vendor, model.backend_key]
    for clip in Clip.objects.all():
        strings += [clip.public_id, clip.web.name, clip.poster.name, clip.original.name, clip.sha256_web]
        strings.append(clip.sha256_original)
    return [s for s in strings if s]


def assert_names_nothing(text: str, strings: list[str], where: str):
    for s in strings:
        assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text, re.IGNORECASE), (
            f"{where} reveals {s!r}"
        )


def probe(body: bytes, tmp_path) -> dict:
    """Every container, stream and packet field ffprobe reports, as a client would read them."""
    path = tmp_path / "served.mp4"
    path.write_bytes(body)
    report = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_packets", "-of", "json", str(path)],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    )
    report["format"].pop("filename")  # ffprobe echoes the path we gave it
    return report


def fetch(client, url: str) -> dict:
    """A side of a battle as a browser fetches it: HEAD, a Range request, the whole file."""
    head = client.head(url)
    ranged = client.get(url, HTTP_RANGE="bytes=0-1023")
    whole = client.get(url)
    body = b"".join(whole.streaming_content)
    assert ranged.status_code == 206 and ranged["Content-Range"].endswith(f"/{len(body)}")
    assert b"".join(ranged.streaming_content) == body[:1024]
    return {
        "headers": {
            kind: {k: v for k, v in r.headers.items() if k not in PER_REQUEST_HEADERS}
            for kind, r in (("head", head), ("range", ranged), ("whole", whole))
        },
        "body": body,
    }


def test_every_served_file_is_the_same_but_for_the_pictures_whatever_made_it(every_backend, tmp_path):
    strings = identifying_strings(every_backend)
    published_hashes = {c.sha256_web for c in Clip.objects.all()} | {c.sha256_original for c in Clip.objects.all()}
    gallery_bodies = {(settings.MEDIA_ROOT / c.web.name).read_bytes() for c in Clip.objects.all()}
    voter = Client()
    start_voting(voter)
    seen_models: set[int] = set()
    features, bodies = [], []
    for _ in range(45):
        if seen_models == {m.pk for m in every_backend}:
            break
        battle, token = served_battle(voter, watched=False)  # the next one skips it (never voted)
        page = voter.get(f"/arena/b/{battle.public_id}/status").content.decode()
        assert_names_nothing(page, strings, "the battle page")
        status = voter.get(f"/api/v1/battles/{battle.public_id}")
        assert_names_nothing(status.content.decode(), strings, "the battle JSON")
        for side in ("left", "right"):
            url = f"/arena/b/{battle.public_id}/{side}.mp4"
            fetched = fetch(voter, url)
            body = fetched["body"]
            assert_names_nothing(json.dumps(fetched["headers"]), strings, f"the {side} media headers")
            assert "Last-Modified" not in fetched["headers"]["whole"]
            assert "Content-Disposition" not in fetched["headers"]["whole"]
            for leak in LEAKY_ENCODER_STRINGS + [s.encode() for s in strings]:
                assert leak not in body, f"the {side} file contains {leak!r}"
            assert hashlib.sha256(body).hexdigest() not in published_hashes
            assert body not in gallery_bodies
            report = probe(body, tmp_path)
            assert_names_nothing(json.dumps(report), strings, f"the {side} file's fields")
            features.append(
                {
                    "model": getattr(battle, side).job.model.slug,
                    "headers": fetched["headers"],
                    "bytes": len(body),
                    "boxes": mp4.box_layout(body),
                    "ffprobe": report,
                }
            )
            bodies.append(body)
        seen_models |= {battle.left.job.model_id, battle.right.job.model_id}
    assert seen_models == {m.pk for m in every_backend}, "every backend's clips were served"
    first = features[0]
    for other in features[1:]:
        for family in ("headers", "bytes", "boxes", "ffprobe"):
            assert other[family] == first[family], (
                f"the {family} of served files differ: {first['model']} and {other['model']}"
            )
    assert len({hashlib.sha256(b).digest() for b in bodies}) == len(bodies), "bytes never repeat"
    assert Battle.objects.filter(voter_key__isnull=False).count() >= len(bodies) // 2


def test_a_battle_is_its_voters_and_only_while_it_can_be_played(every_backend):
    voter, stranger = Client(), Client()
    battle, _ = served_battle(voter, watched=False)
    url = f"/arena/b/{battle.public_id}/left.mp4"
    assert voter.get(url).status_code == 200
    assert stranger.get(url).status_code == 404
    start_voting(stranger)
    assert stranger.get(url).status_code == 404  # another voter's battle


def test_originals_keep_the_vendor_metadata_but_are_never_served(client, every_backend):
    vendor_clip = Clip.objects.get(job__model__slug="vendorx-gen3")
    assert b"VENDORX" in (settings.MEDIA_ROOT / vendor_clip.original.name).read_bytes()
    assert client.get(f"/media/{vendor_clip.original.name}").status_code == 404
    assert fakes.CALLS.count("TestPattern") >= 1
