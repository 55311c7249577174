"""Runway adapter vs the fake: version header, camelCase body, THROTTLED is just waiting."""

import pytest

from tests.fakes.contract import generate, make_request, start_fake, vendor_env  # noqa: F401
from tests.fakes.fake_runway import API_KEY, VERSION


@pytest.fixture
def fake(vendor_env):
    fake = start_fake("runway")
    yield fake
    fake.stop()


def test_every_request_carries_the_version_header_and_a_camelcase_body(fake, tmp_path):
    result, _ = generate("runway", make_request("runway", fake, duration_s=4), tmp_path)
    api_calls = [r for r in fake.recorded if r.path.startswith("/v1/")]
    assert api_calls and all(r.header("x-runway-version") == VERSION for r in api_calls)
    assert all(r.header("authorization") == f"Bearer {API_KEY}" for r in api_calls)
    body = fake.requests_to(r"^/v1/text_to_video$", "POST")[0].json
    assert body == {
        "model": "gen4.5",
        "promptText": "a red fox running through snow",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 7,
    }
    assert result.cost_usd == pytest.approx(0.6)  # 12 credits/s * 5 s * $0.01


def test_throttled_tasks_are_waited_for(fake, tmp_path):
    fake.queued_polls = 4  # PENDING then THROTTLED x3
    generate("runway", make_request("runway", fake), tmp_path)
    assert len(fake.requests_to(r"^/v1/tasks/", "GET")) == 6


def test_a_missing_version_header_is_refused_by_the_fake(fake):
    import httpx

    reply = httpx.post(f"{fake.url}/v1/text_to_video", json={}, headers={"Authorization": f"Bearer {API_KEY}"})
    assert reply.status_code == 400 and "X-Runway-Version" in reply.json()["error"]
