"""Replicate adapter vs the fake predictions API."""

import pytest

from tests.fakes.contract import generate, make_request, start_fake, vendor_env  # noqa: F401
from tests.fakes.fake_replicate import API_TOKEN


@pytest.fixture
def fake(vendor_env):
    fake = start_fake("replicate")
    yield fake
    fake.stop()


def test_official_model_prediction_then_output_url(fake, tmp_path):
    result, _ = generate("replicate", make_request("replicate", fake, duration_s=5), tmp_path)
    create = fake.requests_to(r"^/v1/models/wan-video/wan-2.5-t2v/predictions$", "POST")[0]
    assert create.header("authorization") == f"Bearer {API_TOKEN}"
    assert create.json == {
        "input": {"prompt": "a red fox running through snow", "duration": 5, "aspect_ratio": "16:9", "seed": 7}
    }
    assert fake.requests_to(rf"^/v1/predictions/{result.vendor_job_id}$", "GET")
    assert result.vendor_metadata["predict_time"] == 1.5


def test_a_version_id_uses_the_generic_endpoint(fake, tmp_path):
    generate("replicate", make_request("replicate", fake, replicate_model=None, version="abc123"), tmp_path)
    assert fake.requests_to(r"^/v1/predictions$", "POST")[0].json["version"] == "abc123"
