"""Luma adapter vs the fake generations API."""

import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_luma import API_KEY


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("luma")


def test_create_then_queued_dreaming_completed_then_assets_video(fake, tmp_path):
    fake.running_polls = 2
    result, _ = generate("luma", make_request("luma", duration_s=8, aspect_ratio="9:16"), tmp_path)
    create = fake.requests_to(r"/generations/video$", "POST")[0]
    assert create.json == {
        "model": "ray-2",
        "prompt": "a red fox running through snow",
        "aspect_ratio": "9:16",
        "duration": "9s",
        "resolution": "720p",
    }
    assert create.header("authorization") == f"Bearer {API_KEY}"
    assert len(fake.requests_to(r"/generations/[\w-]+$", "GET")) == 4  # queued, dreaming x2, completed
    assert fake.requests_to(r"^/__media__/") and result.cost_usd is None
