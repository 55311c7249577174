"""Sora adapter vs the fake Videos API: the request matches OpenAI's published spec."""

import pytest

from tests.fakes.contract import generate, make_request, start_fake, vendor_env  # noqa: F401
from tests.fakes.fake_sora import API_KEY
from workers.backends.base import PermanentError

# From OpenAI's spec (VideoCreateParams): only these body fields exist.
SPEC_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}


@pytest.fixture
def fake(vendor_env):
    fake = start_fake("openai-sora")
    yield fake
    fake.stop()


def test_create_sends_seconds_as_a_string_and_size_as_wxh(fake, tmp_path):
    result, _ = generate("openai-sora", make_request("openai-sora", fake, duration_s=6, aspect_ratio="9:16"), tmp_path)
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
    generate("openai-sora", make_request("openai-sora", fake, poll_interval_s=30, poll_deadline_s=5), tmp_path)
    # a 30 s catalog interval would blow the 5 s deadline: the header's 10 ms was used instead
    assert len(fake.requests_to(r"^/v1/videos/video_\w+$", "GET")) == 7


def test_an_integer_seconds_is_what_the_fake_refuses(fake):
    """The fake really checks the type, so the test above could fail."""
    import httpx

    reply = httpx.post(
        f"{fake.url}/v1/videos", json={"prompt": "x", "seconds": 8}, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert reply.status_code == 400 and "expected one of '4', '8', or '12'" in reply.json()["error"]["message"]


def test_multipart_create_is_accepted_by_the_fake(fake):
    import httpx

    reply = httpx.post(
        f"{fake.url}/v1/videos",
        data={"prompt": "x", "seconds": "4", "model": "sora-2"},
        files={"input_reference": ("ref.png", b"\x89PNG", "image/png")},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "queued"


def test_a_size_the_model_lacks_is_a_permanent_error(fake, tmp_path):
    request = make_request("openai-sora", fake, sizes={"16:9": [1920, 1080]})
    with pytest.raises(PermanentError) as caught:
        generate("openai-sora", request, tmp_path)
    assert caught.value.code == "invalid_request" and "size" in str(caught.value)
