"""Sora adapter vs the fake Videos API: the request matches OpenAI's published spec."""

import httpx
import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_sora import API_KEY
from workers.backends.base import PermanentError
from workers.backends.registry import get_backend

# From OpenAI's spec (VideoCreateParams): only these body fields exist.
SPEC_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("openai-sora")


def test_create_sends_seconds_as_a_string_and_size_as_wxh(fake, tmp_path):
    result, _ = generate("openai-sora", make_request("openai-sora", duration_s=6, aspect_ratio="9:16"), tmp_path)
    create = fake.requests_to(r"^/v1/videos$", "POST")[0]
    body = create.json
    assert set(body) <= SPEC_FIELDS
    assert body == {"model": "sora-2", "prompt": "a red fox running through snow", "seconds": "8", "size": "720x1280"}
    assert isinstance(body["seconds"], str)
    assert create.header("authorization") == f"Bearer {API_KEY}"
    assert create.header("content-type") == "application/json"
    content = fake.requests_to(r"/content$")[0]
    assert content.query == {"variant": ["video"]} and content.header("authorization") == f"Bearer {API_KEY}"
    assert result.cost_usd == pytest.approx(0.8)  # 8 s at the catalog's $0.10/s
    assert result.vendor_metadata["seconds"] == "8"


def test_polling_follows_openai_poll_after_ms(fake, tmp_path):
    fake.queued_polls, fake.running_polls = 3, 3
    generate("openai-sora", make_request("openai-sora", poll_interval_s=30, poll_deadline_s=5), tmp_path)
    # a 30 s catalog interval would blow the 5 s deadline: the header's 10 ms was used instead
    assert len(fake.requests_to(r"^/v1/videos/video_\w+$", "GET")) == 7


def test_an_integer_seconds_is_what_the_fake_refuses(fake):
    """The fake really checks the type, so the test above could fail."""
    reply = httpx.post(
        f"{fake.url}/v1/videos", json={"prompt": "x", "seconds": 8}, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert reply.status_code == 400 and "expected one of '4', '8', or '12'" in reply.json()["error"]["message"]


def test_multipart_create_is_accepted_by_the_fake(fake):
    reply = httpx.post(
        f"{fake.url}/v1/videos",
        data={"prompt": "x", "seconds": "4", "model": "sora-2"},
        files={"input_reference": ("ref.png", b"\x89PNG", "image/png")},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "queued"


def test_a_size_the_model_lacks_is_a_permanent_error(fake, tmp_path):
    request = make_request("openai-sora", sizes={"16:9": [1920, 1080]})
    with pytest.raises(PermanentError) as caught:
        generate("openai-sora", request, tmp_path)
    assert caught.value.code == "invalid_request" and "size" in str(caught.value)


@pytest.mark.parametrize(
    "field, value",
    [("seconds", "16"), ("seconds", "20"), ("size", "1920x1080"), ("size", "1080x1920"), ("seed", 3)],
)
def test_the_fake_refuses_what_the_openapi_enums_do_not_list(fake, field, value):
    body = {"prompt": "x", "model": "sora-2-pro", "seconds": "8", "size": "1280x720", field: value}
    reply = httpx.post(f"{fake.url}/v1/videos", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert reply.status_code == 400, reply.text
    assert field in reply.json()["error"]["message"]


def test_the_retired_api_is_not_called_at_openais_own_endpoint(monkeypatch, tmp_path):
    """Shut down on 2026-09-24 (openai-python resources/videos.py): no key is read, no request
    leaves; only an operator-set endpoint (a compatible host, or this fake) is still tried."""
    monkeypatch.delenv("SCREENTEST_OPENAI_SORA_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(PermanentError) as caught:
        get_backend("openai-sora").generate(
            make_request("openai-sora"), workdir=tmp_path, resume_vendor_job_id=None, on_submitted=print
        )
    assert caught.value.code == "vendor_retired" and "2026-09-24" in str(caught.value)
    assert get_backend("openai-sora").retired.since == "2026-09-24"
