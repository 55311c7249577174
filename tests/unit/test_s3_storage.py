"""Media in S3-style storage (a real S3-compatible server, tests/integration/s3_server.py): the
web sends byte ranges from the bucket itself, a battle's file leaves with exactly the headers it
has when served from disk (the storage cannot tell a voter anything), and a worker gets its
local copy straight into its own scratch folder."""

import socket

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import Client, RequestFactory

from tests.integration.s3_server import S3Server, s3_server  # noqa: F401  (fixture)
from webapp.core.file_responses import serve_stored_file
from webapp.core.storage import local_copy, opaque_name, scratch_dir

BODY = bytes(range(256)) * 40  # 10240 bytes, each offset recognisable


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get(path: str, **headers):
    return RequestFactory().get(f"/media/{path}", **headers)


@pytest.fixture
def on_s3(settings, s3_server):
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting()}
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media"  # ignored: nginx has no file to send
    return s3_server


def test_ranges_come_from_the_bucket(on_s3):
    name = default_storage.save(opaque_name("clips", ".mp4"), ContentFile(BODY))
    assert name in on_s3.keys()
    ranged = serve_stored_file(get(name, HTTP_RANGE="bytes=5000-5099"), name)
    assert ranged.status_code == 206 and body_of(ranged) == BODY[5000:5100]
    assert ranged["Content-Range"] == f"bytes 5000-5099/{len(BODY)}" and ranged["Content-Length"] == "100"
    assert "Last-Modified" in ranged and ranged["Accept-Ranges"] == "bytes"
    whole = serve_stored_file(get(name), name)
    assert whole.status_code == 200 and body_of(whole) == BODY and whole["Content-Length"] == str(len(BODY))
    stale = serve_stored_file(get(name, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"'), name)
    assert stale.status_code == 200 and body_of(stale) == BODY  # If-Range mismatch: the whole file
    assert serve_stored_file(get(name, HTTP_RANGE=f"bytes={len(BODY)}-"), name).status_code == 416
    assert serve_stored_file(get(name, HTTP_IF_NONE_MATCH=whole["ETag"]), name).status_code == 304
    head = serve_stored_file(RequestFactory().head(f"/media/{name}", HTTP_RANGE="bytes=0-99"), name)
    assert head.status_code == 206 and head["Content-Length"] == "100" and body_of(head) == b""  # nothing fetched
    empty = default_storage.save(opaque_name("clips", ".mp4"), ContentFile(b""))
    assert body_of(serve_stored_file(get(empty), empty)) == b""
    with pytest.raises(Http404):
        serve_stored_file(get("clips/missing.mp4"), "clips/missing.mp4")


def test_a_battle_file_has_the_same_headers_from_the_bucket_as_from_disk(on_s3, settings, media_root):
    name = default_storage.save(opaque_name("battles", ".mp4"), ContentFile(BODY))
    from_bucket = serve_stored_file(get(name, HTTP_RANGE="bytes=100-"), name, blind_as="battle-7:left")

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "webapp.core.storage.AtomicFileSystemStorage"}}
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    on_disk = default_storage.save(opaque_name("battles", ".mp4"), ContentFile(BODY))
    from_disk = serve_stored_file(get(on_disk, HTTP_RANGE="bytes=100-"), on_disk, blind_as="battle-7:left")

    assert from_bucket.status_code == from_disk.status_code == 206
    assert dict(from_bucket.items()) == dict(from_disk.items())
    assert "Last-Modified" not in from_bucket and body_of(from_bucket) == body_of(from_disk) == BODY[100:]


def test_redirect_mode_sends_named_files_to_the_bucket_but_never_a_battle_file(on_s3, settings):
    settings.MEDIA_S3_REDIRECT = True
    name = default_storage.save(opaque_name("clips", ".mp4"), ContentFile(BODY))
    named = serve_stored_file(get(name), name)
    assert named.status_code == 302 and named["Location"].startswith(f"{on_s3.endpoint_url}/{on_s3.bucket}/{name}?")
    battle = serve_stored_file(get(name, HTTP_RANGE="bytes=0-9"), name, blind_as="battle-8:right")
    assert battle.status_code == 206 and body_of(battle) == BODY[:10]


def test_a_worker_copies_an_object_into_its_own_scratch_folder(on_s3, settings, tmp_path):
    settings.WORK_DIR = tmp_path / "host-scratch"
    name = default_storage.save(opaque_name("originals", ".mp4"), ContentFile(BODY))
    with scratch_dir("job1-") as workdir:
        copy = local_copy(name, workdir, stem="in0")
        assert copy == workdir / "in0.mp4" and copy.read_bytes() == BODY
    assert not copy.exists() and not any(p.is_file() for p in settings.WORK_DIR.rglob("*"))


@pytest.mark.django_db
def test_an_unreachable_bucket_answers_503_not_500(settings):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    setting = {**S3Server(f"http://127.0.0.1:{port}", "gone").storage_setting()}
    setting["OPTIONS"] = {**setting["OPTIONS"], "client_config": Config(retries={"max_attempts": 1}, connect_timeout=2)}
    settings.STORAGES = {**settings.STORAGES, "default": setting}
    response = Client(raise_request_exception=False).get("/media/clips/" + "a" * 24 + ".mp4")  # as a server answers
    assert response.status_code == 503 and response["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER_S)
