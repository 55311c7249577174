"""Veo adapter vs the fake Gemini API: predictLongRunning, operation polling, file download."""

import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_veo import API_KEY
from workers.backends.base import RetryableError


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("google-veo")


def test_create_poll_and_download_through_the_redirect(fake, tmp_path):
    result, _ = generate("google-veo", make_request("google-veo", duration_s=5, negative_prompt="text"), tmp_path)
    create = fake.requests_to(r":predictLongRunning$", "POST")[0]
    assert create.header("x-goog-api-key") == API_KEY and create.header("authorization") is None
    assert create.json == {
        "instances": [{"prompt": "a red fox running through snow"}],
        "parameters": {
            "aspectRatio": "16:9",
            "durationSeconds": 6,
            "sampleCount": 1,
            "resolution": "720p",
            "negativePrompt": "text",
        },
    }
    assert "seed" not in create.json["parameters"]
    assert result.vendor_job_id.startswith("models/veo-3.1-fast-generate-preview/operations/")
    assert fake.requests_to(r"/operations/", "GET")
    download = fake.requests_to(r":download$", "GET")[0]
    assert download.header("x-goog-api-key") == API_KEY
    assert fake.requests_to(r"^/blob/", "GET")  # the 302 was followed after re-checking


def test_resource_exhausted_honours_retry_info(fake, tmp_path):
    fake.fail_next(
        429,
        {
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "message": "quota",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"}],
            }
        },
        method="POST",
    )
    with pytest.raises(RetryableError) as caught:
        generate("google-veo", make_request("google-veo"), tmp_path)
    assert caught.value.retry_after == 31
