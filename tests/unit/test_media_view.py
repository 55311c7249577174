import pytest

# The media view asks the database whether a moderator hid the clip.
pytestmark = pytest.mark.django_db

MEDIA = "clips/AbCdEfGhIjKlMnOpQrStUvWx.mp4"


@pytest.fixture
def clip_file(media_root):
    path = media_root / MEDIA
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    return path


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_whole_file_advertises_ranges(client, clip_file):
    response = client.get(f"/media/{MEDIA}")
    assert response.status_code == 200 and response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4" and response["Content-Length"] == "10240"
    assert body(response) == clip_file.read_bytes()


@pytest.mark.parametrize(
    "header, first, last",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 10239),
        ("bytes=-500", 9740, 10239),
        ("bytes=10000-99999", 10000, 10239),
        ("bytes=-99999", 0, 10239),
    ],
)
def test_single_ranges(client, clip_file, header, first, last):
    response = client.get(f"/media/{MEDIA}", HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/10240"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == clip_file.read_bytes()[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-30000", "bytes=-0", "bytes=500-100"])
def test_unsatisfiable_ranges_are_416(client, clip_file, header):
    response = client.get(f"/media/{MEDIA}", HTTP_RANGE=header)
    assert response.status_code == 416 and response["Content-Range"] == "bytes */10240"


def test_malformed_range_sends_the_whole_file(client, clip_file):
    response = client.get(f"/media/{MEDIA}", HTTP_RANGE="lines=1-2")
    assert response.status_code == 200 and len(body(response)) == 10240


def test_if_range_mismatch_and_etag(client, clip_file):
    etag = client.get(f"/media/{MEDIA}")["ETag"]
    assert client.get(f"/media/{MEDIA}", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"').status_code == 200
    assert client.get(f"/media/{MEDIA}", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206
    assert client.get(f"/media/{MEDIA}", HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "originals/AbCdEfGhIjKlMnOpQrStUvWx.mp4",
        "clips/../secret.mp4",
        "clips/missingmissingmissing.mp4",
        "../../etc/passwd",
        "clips/x.mp4",
    ],
)
def test_only_existing_public_media_is_served(client, clip_file, media_root, path):
    (media_root / "originals").mkdir(exist_ok=True)
    (media_root / "originals" / "AbCdEfGhIjKlMnOpQrStUvWx.mp4").write_bytes(b"vendor original")
    assert client.get(f"/media/{path}").status_code == 404


def test_behind_nginx_django_only_redirects_internally(client, clip_file, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media"
    response = client.get(f"/media/{MEDIA}", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{MEDIA}"
