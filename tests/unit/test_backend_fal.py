"""The generic fal queue adapter vs the fake: Pika by catalog data alone, any other fal app too."""

import pytest

from tests.fakes.contract import generate, make_request, start_fake, vendor_env  # noqa: F401
from tests.fakes.fake_fal import API_KEY
from workers.backends.base import PermanentError


@pytest.fixture
def fake(vendor_env):
    fake = start_fake("fal")
    yield fake
    fake.stop()


def test_pika_text_to_video_input_and_queue_urls(fake, tmp_path):
    result, _ = generate("fal", make_request("fal", fake, duration_s=3, negative_prompt="blurry"), tmp_path)
    submit = fake.requests_to(r"^/fal-ai/pika/v2.2/text-to-video$", "POST")[0]
    assert submit.header("authorization") == f"Key {API_KEY}"
    assert submit.json == {
        "prompt": "a red fox running through snow",
        "negative_prompt": "blurry",
        "duration": 5,
        "aspect_ratio": "16:9",
        "seed": 7,
        "resolution": "720p",
    }
    rid = result.vendor_job_id
    assert fake.requests_to(rf"^/fal-ai/pika/requests/{rid}/status$", "GET")
    assert fake.requests_to(rf"^/fal-ai/pika/requests/{rid}$", "GET")
    assert result.cost_usd == pytest.approx(0.2)


def test_another_fal_model_is_catalog_data_only(fake, tmp_path):
    result, _ = generate(
        "fal",
        make_request(
            "fal",
            fake,
            app_id="fal-ai/kling-video/v2.1/master/text-to-video",
            durations=[5, 10],
            input_fields={"prompt": "prompt", "duration": "duration", "aspect_ratio": "aspect_ratio"},
            duration_format="str",
            extra_input={},
        ),
        tmp_path,
    )
    body = fake.requests_to(r"^/fal-ai/kling-video/v2.1/master/text-to-video$", "POST")[0].json
    assert body == {"prompt": "a red fox running through snow", "duration": "5", "aspect_ratio": "16:9"}
    assert result.video_path.exists()


def test_pika_input_outside_its_enums_is_a_permanent_error(fake, tmp_path):
    with pytest.raises(PermanentError) as caught:
        generate("fal", make_request("fal", fake, extra_input={"resolution": "4k"}), tmp_path)
    assert caught.value.code == "invalid_request" and "resolution" in str(caught.value)
