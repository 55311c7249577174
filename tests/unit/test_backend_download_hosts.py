"""The adapters' default download hosts are the ones docs/backends.md lists with a source, and
a real output URL on each documented host downloads: each fake serves its files under the
vendor's real media hostname (answered by 127.0.0.1 through SCREENTEST_TEST_RESOLVE), while
the adapters run with their unchanged defaults."""

import re
from pathlib import Path

import pytest

from tests.fakes.all_vendors import VENDORS
from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from workers.backends.netpolicy import UnsafeURL, check_url, host_matches
from workers.backends.registry import BACKENDS, LOCAL_BACKENDS, backend_class

DOC = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
PUBLIC = lambda host, port: ["93.184.216.34"]  # noqa: E731


def documented_hosts() -> dict[str, tuple[set[str], str]]:
    section = DOC.read_text().split("### Download hosts", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0] != "`backend key`":
            rows[cells[0].strip("`")] = (set(re.findall(r"`([^`\s]+\.[a-z]+)`", cells[1])), cells[2])
    return rows


def test_every_vendor_backend_has_a_documented_row_with_a_source():
    rows = documented_hosts()
    assert set(rows) == set(BACKENDS) - {"demo"} - LOCAL_BACKENDS
    for key, (hosts, source) in rows.items():
        assert set(backend_class(key).default_download_hosts) == hosts, key
        assert len(source) > 10, key  # a page, or a repository and file


@pytest.mark.parametrize(
    "key, url",
    [
        ("luma", "https://storage.cdn-luma.com/dream-machine/abc/video.mp4"),
        ("runway", "https://dnznrvs05pmza.cloudfront.net/output.mp4?_jwt=x"),
        ("kling", "https://p2-kling.klingai.com/kcdn/video.mp4"),
        ("fal", "https://v3.fal.media/files/monkey/out.mp4"),
        ("replicate", "https://replicate.delivery/xezq/out.mp4"),
        ("google-veo", "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media"),
    ],
)
def test_the_documented_hosts_pass_the_policy_with_the_defaults(key, url, monkeypatch):
    for name in ("SCREENTEST_TEST_RESOLVE", "SCREENTEST_INSECURE_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    hosts = backend_class(key).default_download_hosts
    assert check_url(url, hosts, environ={}, resolver=PUBLIC).host == url.split("/")[2]


def test_no_default_allows_a_whole_shared_cdn():
    """`.cloudfront.net` or `.amazonaws.com` would let any customer of that CDN serve a file."""
    for key in set(BACKENDS) - {"demo"} - LOCAL_BACKENDS:
        for shared in ("anything.cloudfront.net", "bucket.s3.amazonaws.com", "x.storage.googleapis.com"):
            assert not host_matches(shared, backend_class(key).default_download_hosts), (key, shared)
    with pytest.raises(UnsafeURL):
        check_url("https://evil.cloudfront.net/x.mp4", backend_class("runway").default_download_hosts, resolver=PUBLIC)


@pytest.mark.parametrize("key", sorted(VENDORS))
def test_a_generation_downloads_from_the_vendors_real_media_host(key, vendor_env, tmp_path):
    fake = vendor_env.start(key)
    result, _ = generate(key, make_request(key), tmp_path)
    media = [r for r in fake.recorded if r.path.startswith(("/__media__/", "/blob/"))]
    assert result.video_path.exists()
    if key != "openai-sora":  # Sora's bytes come from the API host's /content endpoint
        assert media and all(r.header("host").split(":")[0] == fake.media_host for r in media)
