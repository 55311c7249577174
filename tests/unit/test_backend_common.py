"""The contract every HTTP vendor adapter keeps, checked against each vendor's fake server:
the same faults, injected the way each vendor really reports them, end in the same outcome."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fakes.all_vendors import KEYS, VENDORS
from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.vendor_server import fake_mp4
from workers.backends.base import GenerationTimeout, PermanentError, RetryableError, VendorPolicyRejection
from workers.backends.download import looks_like_video
from workers.backends.netpolicy import UnsafeURL
from workers.backends.registry import get_backend

ALL = sorted(VENDORS)


@pytest.fixture(params=ALL)
def vendor(request, vendor_env):
    return request.param, vendor_env.start(request.param)


def test_a_prompt_becomes_a_downloaded_video_and_the_id_is_reported_before_polling(vendor, tmp_path):
    key, fake = vendor
    result, submitted = generate(key, make_request(key), tmp_path)
    assert looks_like_video(result.video_path.read_bytes()[:16])
    assert result.video_path.read_bytes() == fake_mp4()
    assert submitted == [result.vendor_job_id] and result.vendor_job_id
    assert len(fake.jobs) == 1
    if key not in ("luma", "luma-agents"):  # Luma's prices are per clip, not per second: no cost recorded
        assert result.cost_usd and result.cost_usd > 0


def test_a_resumed_job_is_polled_not_created_again(vendor, tmp_path):
    key, fake = vendor
    (tmp_path / "first").mkdir()
    first, _ = generate(key, make_request(key), tmp_path / "first")
    creates_before = len([r for r in fake.recorded if r.method == "POST"])
    second, submitted = generate(key, make_request(key), tmp_path, resume=first.vendor_job_id)
    assert submitted == [] and second.vendor_job_id == first.vendor_job_id
    assert len([r for r in fake.recorded if r.method == "POST"]) == creates_before


def test_policy_refusal_at_create_time_is_a_vendor_rejection(vendor, tmp_path):
    key, fake = vendor
    with pytest.raises(VendorPolicyRejection):
        generate(key, make_request(key, "a scene [[policy]]"), tmp_path)


def test_policy_failure_of_a_running_job_is_a_vendor_rejection(vendor, tmp_path):
    key, fake = vendor
    fake.flag_next_job("policy-async")
    with pytest.raises(VendorPolicyRejection):
        generate(key, make_request(key), tmp_path)
    assert len(fake.jobs) == 1


def test_an_ordinary_job_failure_is_permanent_not_policy(vendor, tmp_path):
    key, fake = vendor
    fake.flag_next_job("fail")
    with pytest.raises(PermanentError) as caught:
        generate(key, make_request(key), tmp_path)
    assert not isinstance(caught.value, VendorPolicyRejection)


def test_a_bad_key_is_a_permanent_auth_failure(vendor, tmp_path, monkeypatch):
    key, fake = vendor
    for name in KEYS:
        monkeypatch.setenv(name, "wrong-key-abcdef123456-long-enough-for-hs256")
    with pytest.raises(PermanentError) as caught:
        generate(key, make_request(key), tmp_path)
    assert caught.value.code == "auth_failed"
    assert len(fake.jobs) == 0


def test_keys_are_redacted_from_error_texts(vendor, tmp_path):
    key, fake = vendor
    echoed = " ".join(KEYS.values())
    fake.fail_next(400, {"error": {"message": f"bad request from {echoed}"}, "detail": f"from {echoed}"}, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate(key, make_request(key), tmp_path)
    text = str(caught.value)
    assert "[redacted]" in text
    assert not any(value in text for value in _keys_of(key)), text


def _keys_of(key: str) -> list[str]:
    by_backend = {
        "openai-sora": ["OPENAI_API_KEY"],
        "runway": ["RUNWAYML_API_SECRET"],
        "luma": ["LUMAAI_API_KEY"],
        "luma-agents": ["LUMA_AGENTS_API_KEY"],
        "kling": ["KLING_ACCESS_KEY", "KLING_SECRET_KEY"],
        "fal": ["FAL_KEY"],
        "google-veo": ["GEMINI_API_KEY"],
        "replicate": ["REPLICATE_API_TOKEN"],
    }
    return [KEYS[name] for name in by_backend[key]]


def test_429_is_retryable_with_the_vendor_retry_after(vendor, tmp_path):
    key, fake = vendor
    fake.fail_next(429, {"error": "rate limited", "detail": "throttled"}, headers={"Retry-After": "7"}, method="POST")
    with pytest.raises(RetryableError) as caught:
        generate(key, make_request(key), tmp_path)
    assert caught.value.retry_after == 7 and caught.value.code == "rate_limited"
    fake.fail_next(429, {"error": "slow down"}, headers={"retry-after-ms": "1500"}, method="POST")
    with pytest.raises(RetryableError) as caught:
        generate(key, make_request(key), tmp_path)
    assert caught.value.retry_after == 1.5
    result, _ = generate(key, make_request(key), tmp_path)  # and then it works
    assert result.video_path.exists()


def test_a_5xx_while_polling_is_retryable_and_the_retry_resumes(vendor, tmp_path):
    key, fake = vendor
    fake.fail_next(503, {"error": "overloaded"}, method="GET")
    submitted: list[str] = []
    with pytest.raises(RetryableError):
        get_backend(key).generate(
            make_request(key), workdir=tmp_path, resume_vendor_job_id=None, on_submitted=submitted.append
        )
    result, _ = generate(key, make_request(key), tmp_path, resume=submitted[-1])
    assert result.video_path.exists() and len(fake.jobs) == 1


@pytest.mark.parametrize(
    "flag, error, code",
    [
        ("truncated", RetryableError, "download_failed"),
        ("not-video", PermanentError, "not_a_video"),
        ("expired", RetryableError, "download_expired"),
        ("redirect-internal", UnsafeURL, "unsafe_url"),
    ],
)
def test_bad_downloads_never_leave_a_file(vendor, tmp_path, flag, error, code):
    key, fake = vendor
    fake.flag_next_job(flag)
    with pytest.raises(error) as caught:
        generate(key, make_request(key), tmp_path)
    assert caught.value.code == code
    assert list(tmp_path.iterdir()) == []


def test_polling_has_a_deadline(vendor, tmp_path):
    key, fake = vendor
    fake.queued_polls = 10_000
    with pytest.raises(GenerationTimeout):
        generate(key, make_request(key, poll_deadline_s=0.3), tmp_path)


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_to_another_loopback_service_is_never_followed(vendor, tmp_path):
    """The test allow-list opens 127.0.0.1 only as the fake's host: a redirect to a service on
    another loopback address (standing in for an internal one) is refused before any request."""
    key, fake = vendor
    canary = ThreadingHTTPServer(("127.0.0.2", 0), _Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    try:
        fake.internal_redirect_target = f"http://127.0.0.2:{canary.server_address[1]}/latest/meta-data/"
        fake.flag_next_job("redirect-internal")
        with pytest.raises(UnsafeURL):
            generate(key, make_request(key), tmp_path)
        assert _Canary.hits == []
    finally:
        canary.shutdown()
        canary.server_close()
