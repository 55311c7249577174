"""C2PA: a vendor's original carrying Content Credentials keeps them (stored byte for byte), the
clip records whether a manifest was there and what it says, and the blind rendition has none.

The manifests are real: each test video is signed here, offline, with c2pa-python and a
throwaway CA + leaf certificate (tests/fakes/c2pa_samples.py); reading uses the same library."""

import hashlib
import subprocess

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from tests.conftest import record_sent
from tests.fakes import backends as fakes
from tests.fakes.c2pa_samples import (
    ISSUER_ORG,
    SIGNER_NAME,
    TRAINED_ALGORITHMIC_MEDIA,
    insert_garbage_c2pa_box,
    manifest_definition,
    sign_mp4,
)
from webapp.catalog.models import VideoModel
from webapp.studio import provenance
from webapp.studio.models import Clip, JobState
from webapp.studio.services import pipeline
from webapp.studio.services.submission import PromptInput, submit_prompt
from workers.backends import registry
from workers.media import provenance_c2pa
from workers.media.provenance_c2pa import MAX_ITEMS, MAX_STRING, read_manifest


@pytest.fixture(scope="module")
def plain_mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("c2pa") / "plain.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=24:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture(scope="module")
def signed_mp4(plain_mp4):
    return sign_mp4(plain_mp4, plain_mp4.with_name("signed.mp4"))


# --- the reader ----------------------------------------------------------------------------


def test_a_signed_original_is_read_with_its_assertions(signed_mp4):
    info = read_manifest(signed_mp4)
    assert info.present is True and info.error is None
    s = info.summary
    assert s["active_manifest"].startswith("urn:c2pa:") and s["manifests"] == 1
    assert s["claim_generator"] == "FakeVendor Video 2.1"
    assert s["title"] == "a fox in the snow"
    assert "c2pa.actions.v2" in s["assertions"] and any(a.startswith("c2pa.hash.bmff") for a in s["assertions"])
    assert s["actions"] == ["c2pa.created"]
    assert s["digital_source_types"] == ["trainedAlgorithmicMedia"]
    assert s["signature"]["common_name"] == SIGNER_NAME and s["signature"]["issuer"] == ISSUER_ORG
    # The signature and hashes check out; our throwaway CA is on nobody's trust list.
    assert s["validation"] == "Valid"
    assert s["validation_failures"] == ["signingCredential.untrusted"]
    assert "truncated" not in s


def test_an_unsigned_original_has_no_manifest(plain_mp4):
    assert read_manifest(plain_mp4) == provenance_c2pa.C2paInfo(False, {}, None)


def test_a_tampered_original_reads_as_invalid(signed_mp4, tmp_path):
    data = bytearray(signed_mp4.read_bytes())
    data[-100] ^= 0xFF  # inside mdat: the asset no longer matches the manifest's hash
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    info = read_manifest(tampered)
    assert info.present and info.error is None
    assert info.summary["validation"] == "Invalid"
    assert "assertion.bmffHash.mismatch" in info.summary["validation_failures"]


def test_a_garbage_c2pa_box_is_reported_not_raised(plain_mp4, tmp_path):
    info = read_manifest(insert_garbage_c2pa_box(plain_mp4, tmp_path / "garbage.mp4"))
    assert info.present is True
    assert info.error and "could not be read" in info.error and info.summary == {"error": info.error}


def test_a_manifest_box_cut_short_is_reported_not_raised(signed_mp4, tmp_path):
    data = signed_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.index(provenance_c2pa.C2PA_BMFF_UUID) + 300])
    info = read_manifest(cut)
    assert info.present is True and info.error


@pytest.mark.parametrize("content", [b"", b"not a video at all\n" * 50, b"\x00\x00\x00\x01ftyp" + b"\xff" * 64])
def test_non_media_input_is_reported_not_raised(tmp_path, content):
    path = tmp_path / "junk.mp4"
    path.write_bytes(content)
    info = read_manifest(path)
    assert info.present is False and info.error


def test_a_missing_file_is_reported_not_raised(tmp_path):
    info = read_manifest(tmp_path / "nope.mp4")
    assert info.present is False and "No such file" in info.error


def test_the_summary_of_an_oversized_manifest_is_bounded(plain_mp4, tmp_path):
    actions = [{"action": "c2pa.edited", "parameters": {"description": "x"}} for _ in range(MAX_ITEMS + 15)]
    actions.insert(0, {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA})
    signed = sign_mp4(
        plain_mp4, tmp_path / "big.mp4", manifest_definition(title="T" * 5000, generator="G" * 1000, actions=actions)
    )
    s = read_manifest(signed).summary
    assert s["truncated"] is True
    assert len(s["title"]) == MAX_STRING and s["title"].endswith("…")
    assert len(s["claim_generator"]) == MAX_STRING
    assert len(s["actions"]) == MAX_ITEMS and s["actions"][0] == "c2pa.created"


# --- the pipeline --------------------------------------------------------------------------

FAKES = ["C2paSigned", "C2paGarbageBox", "TestPattern", "MatroskaOutput"]


@pytest.fixture
def fake_backends(monkeypatch):
    for name in FAKES:
        monkeypatch.setitem(registry.BACKENDS, f"fake-{name}", f"tests.fakes.backends.{name}")
    registry.backend_class.cache_clear()
    fakes.PRODUCED_SHA256.clear()
    record_sent(monkeypatch, lambda *a: None)
    yield
    registry.backend_class.cache_clear()


def make_clip(backend: str, callbacks) -> Clip:
    VideoModel.objects.get_or_create(
        slug=f"fake-{backend.lower()}",
        defaults=dict(
            display_name=f"Fake {backend}",
            vendor="Fake vendor",
            backend_key=f"fake-{backend}",
            backend_params={"base_width": 320, "base_height": 180},
        ),
    )
    with callbacks(execute=False):
        prompt = submit_prompt(
            PromptInput(text="a fox in the snow", models=[f"fake-{backend.lower()}"], duration_s=1.0, seed=5)
        )
    job = prompt.jobs.get()
    pipeline.generate_step(job.pk, owner="g pid 1")
    pipeline.media_step(job.pk, owner="m pid 1")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_message
    return Clip.objects.select_related("job__model").get(job=job)


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def clip_page(clip) -> str:
    response = Client().get(f"/c/{clip.public_id}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_signed_original_is_kept_and_its_manifest_recorded(
    fake_backends, media_root, tmp_path, django_capture_on_commit_callbacks
):
    clip = make_clip("C2paSigned", django_capture_on_commit_callbacks)
    original = default_storage.path(clip.original.name)
    # The original is stored exactly as the vendor returned it, manifest and all.
    assert sha256(original) == fakes.PRODUCED_SHA256[0] == clip.sha256_original
    assert read_manifest(original).present
    assert clip.c2pa_present is True
    assert clip.c2pa_summary["claim_generator"] == "FakeVendor Video 2.1"
    assert clip.c2pa_summary["actions"] == ["c2pa.created"]
    assert clip.c2pa_summary["digital_source_types"] == ["trainedAlgorithmicMedia"]
    assert clip.c2pa_summary["validation"] == "Valid"
    # The blind rendition carries no manifest.
    assert read_manifest(default_storage.path(clip.web.name)) == provenance_c2pa.C2paInfo(False, {}, None)
    assert provenance_c2pa.C2PA_BMFF_UUID not in open(default_storage.path(clip.web.name), "rb").read()

    page = clip_page(clip)
    assert "C2PA manifest present" in page
    for text in (
        "FakeVendor Video 2.1",
        "c2pa.created",
        "trainedAlgorithmicMedia",
        SIGNER_NAME,
        "validation: Valid",
        "signer not on a trust list",
    ):
        assert text in page
    record = provenance.record(clip)["c2pa"]
    assert record["checked"] and record["manifest_present"] and record["summary"]["title"] == "a fox in the snow"

    # The named download is the original byte for byte, so its Content Credentials still verify
    # (adding our record to its metadata would re-mux the file and drop them).
    response = Client().get(f"/c/{clip.public_id}/original")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    download = tmp_path / "download.mp4"
    download.write_bytes(b"".join(response.streaming_content))
    assert sha256(download) == fakes.PRODUCED_SHA256[0]
    assert read_manifest(download).summary["validation"] == "Valid"


@pytest.mark.django_db
def test_an_unsigned_original_records_no_manifest(fake_backends, media_root, django_capture_on_commit_callbacks):
    clip = make_clip("TestPattern", django_capture_on_commit_callbacks)
    assert clip.c2pa_present is False and clip.c2pa_summary == {}
    page = clip_page(clip)
    assert "no C2PA manifest in the original" in page and "C2PA manifest present" not in page


@pytest.mark.django_db
def test_a_garbage_manifest_does_not_stop_the_clip(fake_backends, media_root, django_capture_on_commit_callbacks):
    clip = make_clip("C2paGarbageBox", django_capture_on_commit_callbacks)
    assert sha256(default_storage.path(clip.original.name)) == fakes.PRODUCED_SHA256[0]
    assert clip.c2pa_present is True and "could not be read" in clip.c2pa_summary["error"]
    assert "C2PA manifest present in the original but unreadable" in clip_page(clip)
    assert not read_manifest(default_storage.path(clip.web.name)).present


@pytest.mark.django_db
def test_a_matroska_original_is_not_checked(fake_backends, media_root, django_capture_on_commit_callbacks):
    clip = make_clip("MatroskaOutput", django_capture_on_commit_callbacks)
    assert clip.original.name.endswith(".mkv")
    assert clip.c2pa_present is None and "matroska" in clip.c2pa_summary["not_checked"]
    assert "not checked" in clip_page(clip)
