"""Which URLs a worker may fetch, and where keys come from."""

import httpx
import pytest

from workers.backends.base import PermanentError
from workers.backends.httpclient import parse_retry_after
from workers.backends.netpolicy import UnsafeURL, check_url, insecure_test_hosts
from workers.backends.secrets import read_secret, redact, require_secret

PUBLIC = lambda host, port: ["93.184.216.34"]  # noqa: E731


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.vendor.example/v.mp4",  # plain http
        "ftp://cdn.vendor.example/v.mp4",  # other scheme
        "https://evil.example/v.mp4",  # not the vendor's host
        "https://cdn.vendor.example.evil.example/v",  # suffix trick
        "https://user:pw@cdn.vendor.example/v.mp4",  # credentials in the URL
    ],
)
def test_urls_outside_the_rules_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_url(url, [".vendor.example"], environ={}, resolver=PUBLIC)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_a_vendor_host_resolving_to_an_internal_address_is_refused(address):
    with pytest.raises(UnsafeURL):
        check_url(
            "https://cdn.vendor.example/v.mp4",
            [".vendor.example"],
            environ={},
            resolver=lambda host, port: ["93.184.216.34", address],
        )


def test_a_public_vendor_host_over_https_is_allowed():
    assert (
        check_url("https://cdn.vendor.example/v.mp4", [".vendor.example"], environ={}, resolver=PUBLIC)
        == "cdn.vendor.example"
    )


def test_the_test_allow_list_only_ever_opens_loopback():
    env = {"SCREENTEST_INSECURE_HOSTS": "127.0.0.1, localhost, 10.0.0.5, metadata.google.internal, ::1"}
    assert insecure_test_hosts(env) == {"127.0.0.1", "localhost", "::1"}
    assert check_url("http://127.0.0.1:8000/x", ["127.0.0.1"], environ=env) == "127.0.0.1"
    with pytest.raises(UnsafeURL):
        check_url("http://10.0.0.5/x", ["10.0.0.5"], environ=env)
    with pytest.raises(UnsafeURL):  # listed as a vendor host, but not on the test list: resolves to loopback
        check_url("https://localhost/x", ["localhost"], environ={})


def test_retry_after_forms():
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert parse_retry_after(httpx.Headers({"retry-after": "9"})) == 9
    assert parse_retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}), now=1445412480.0) == 10
    assert parse_retry_after(httpx.Headers({})) is None


def test_keys_come_from_env_or_a_secret_file(tmp_path, monkeypatch):
    secret_file = tmp_path / "key"
    secret_file.write_text("file-key-123456\n")
    assert read_secret("X_KEY", {"X_KEY_FILE": str(secret_file)}) == "file-key-123456"
    assert read_secret("X_KEY", {"X_KEY": "env-key", "X_KEY_FILE": str(secret_file)}) == "env-key"
    assert read_secret("X_KEY", {}) is None
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(PermanentError) as caught:
        require_secret("NOPE_KEY")
    assert caught.value.code == "missing_api_key"
    assert redact("key abcdef123 leaked", ["abcdef123"]) == "key [redacted] leaked"
