"""Replicate adapter vs the fake predictions API."""

import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_replicate import API_TOKEN
from workers.backends.base import PermanentError
from workers.backends.capabilities import check_entry


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("replicate")


def test_official_model_prediction_then_output_url(fake, tmp_path):
    result, _ = generate("replicate", make_request("replicate", duration_s=5), tmp_path)
    create = fake.requests_to(r"^/v1/models/minimax/video-01/predictions$", "POST")[0]
    assert create.header("authorization") == f"Bearer {API_TOKEN}"
    assert create.json == {"input": {"prompt": "a red fox running through snow"}}
    assert fake.requests_to(rf"^/v1/predictions/{result.vendor_job_id}$", "GET")
    assert result.vendor_metadata["predict_time"] == 1.5


def test_a_version_id_uses_the_generic_endpoint(fake, tmp_path):
    generate("replicate", make_request("replicate", replicate_model=None, version="fakeversion0minimax"), tmp_path)
    assert fake.requests_to(r"^/v1/predictions$", "POST")[0].json["version"] == "fakeversion0minimax"


def test_minimax_video_01_takes_no_aspect_ratio_so_portrait_cannot_be_offered(fake, tmp_path):
    """Its Replicate schema has no aspect_ratio input: the fake refuses one, as Replicate's
    validation does, and the entry may not offer 9:16 (it would come back landscape)."""
    request = make_request("replicate", input_fields=["prompt", "aspect_ratio"])
    with pytest.raises(PermanentError) as caught:
        generate("replicate", request, tmp_path)
    assert "aspect_ratio" in str(caught.value)
    params = {"replicate_model": "minimax/video-01", "durations": [6], "input_fields": ["prompt"], "audio": "none"}
    params["sizes"] = {"16:9": [1280, 720], "9:16": [720, 1280]}
    assert any("9:16" in reason for reason in check_entry("replicate", params, [6], ["16:9", "9:16"]))
