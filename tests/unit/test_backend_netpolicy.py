"""Which URLs a worker may fetch, at which address it connects, and where keys come from."""

import httpcore
import httpx
import pytest

from workers.backends.base import PermanentError, RetryableError
from workers.backends.download import download
from workers.backends.httpclient import parse_retry_after
from workers.backends.netpolicy import UnsafeURL, check_url, insecure_test_hosts, loopback_overrides
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
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::a00:1",  # IPv4-compatible 10.0.0.1
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
    checked = check_url("https://cdn.vendor.example/v.mp4", [".vendor.example"], environ={}, resolver=PUBLIC)
    assert (checked.host, checked.port, checked.address) == ("cdn.vendor.example", 443, "93.184.216.34")


@pytest.mark.parametrize("url", ["https://cdn.vendor.example:8443/v.mp4", "https://cdn.vendor.example:22/v"])
def test_only_port_443_unless_the_operator_lists_others(url):
    with pytest.raises(UnsafeURL):
        check_url(url, [".vendor.example"], environ={}, resolver=PUBLIC)
    env = {"SCREENTEST_DOWNLOAD_PORTS": "443,8443"}
    if ":8443" in url:
        assert check_url(url, [".vendor.example"], environ=env, resolver=PUBLIC).port == 8443
    else:
        with pytest.raises(UnsafeURL):
            check_url(url, [".vendor.example"], environ=env, resolver=PUBLIC)


def test_the_test_resolver_maps_real_hostnames_to_loopback_only():
    env = {"SCREENTEST_TEST_RESOLVE": "storage.cdn-luma.com=127.0.0.1, evil.example=10.0.0.5, a.example=::1"}
    assert loopback_overrides(env) == {"storage.cdn-luma.com": "127.0.0.1", "a.example": "::1"}
    checked = check_url("http://storage.cdn-luma.com:8123/x.mp4", ["storage.cdn-luma.com"], environ=env)
    assert (checked.address, checked.is_test_host) == ("127.0.0.1", True)
    with pytest.raises(UnsafeURL):  # not pinned to loopback: the ordinary rules apply (https only)
        check_url("http://evil.example/x", ["evil.example"], environ=env, resolver=PUBLIC)


def test_the_test_allow_list_only_ever_opens_loopback():
    env = {"SCREENTEST_INSECURE_HOSTS": "127.0.0.1, localhost, 10.0.0.5, metadata.google.internal, ::1"}
    assert insecure_test_hosts(env) == {"127.0.0.1", "localhost", "::1"}
    assert check_url("http://127.0.0.1:8000/x", ["127.0.0.1"], environ=env).address == "127.0.0.1"
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
    assert (
        read_secret("X_KEY", {"X_KEY": "env-key", "X_KEY_FILE": str(secret_file)}) == "file-key-123456"
    )  # the file wins
    assert read_secret("X_KEY", {}) is None
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(PermanentError) as caught:
        require_secret("NOPE_KEY")
    assert caught.value.code == "missing_api_key"
    assert redact("key abcdef123 leaked", ["abcdef123"]) == "key [redacted] leaked"


class _Rebinding:
    """A resolver that answers a public address first, then an internal one (DNS rebinding)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, host, port):
        self.calls += 1
        return ["93.184.216.34"] if self.calls == 1 else ["127.0.0.1"]


class _Recorder(httpcore.SyncBackend):
    """Records where a connection would go and what TLS name it would check, then stops:
    no packet leaves the machine."""

    seen: list[tuple] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        _Recorder.seen.append(("connect", host, port))
        return _Stream()


class _Stream(httpcore.NetworkStream):
    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        _Recorder.seen.append(("tls", server_hostname))
        raise httpcore.ConnectError("stopped by the test")

    def close(self):
        pass


def test_a_download_connects_to_the_checked_address_with_tls_for_the_vendor_name(monkeypatch, tmp_path):
    """One DNS answer is checked and used: a second lookup that would answer 127.0.0.1 never
    happens (the connection goes to the checked address), and TLS still verifies the vendor's
    hostname."""
    monkeypatch.setattr(httpcore, "SyncBackend", _Recorder)
    monkeypatch.delenv("SCREENTEST_TEST_RESOLVE", raising=False)
    _Recorder.seen = []
    rebinding = _Rebinding()
    with pytest.raises(RetryableError):
        download(
            "https://cdn.vendor.example/v.mp4",
            tmp_path / "v.mp4",
            allowed_hosts=[".vendor.example"],
            resolver=rebinding,
        )
    assert rebinding.calls == 1
    assert _Recorder.seen[0] == ("connect", "93.184.216.34", 443)
    assert ("tls", "cdn.vendor.example") in _Recorder.seen
    assert not any(event[1] in ("cdn.vendor.example", "127.0.0.1") for event in _Recorder.seen if event[0] == "connect")
