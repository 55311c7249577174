"""The generic fal queue adapter vs the fake: Pika by catalog data alone, any other fal app too."""

import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_fal import API_KEY
from workers.backends.base import PermanentError
from workers.backends.fal import app_root


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("fal")


def test_pika_text_to_video_input_and_queue_urls(fake, tmp_path):
    result, _ = generate("fal", make_request("fal", duration_s=3, negative_prompt="blurry"), tmp_path)
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
            duration_s=7,
            app_id="fal-ai/ltx-2/text-to-video/fast",
            durations=[6, 8, 10],
            input_fields={"prompt": "prompt", "duration": "duration"},
            sizes={"16:9": [1920, 1080]},
            extra_input={"resolution": "1080p"},
        ),
        tmp_path,
    )
    body = fake.requests_to(r"^/fal-ai/ltx-2/text-to-video/fast$", "POST")[0].json
    assert body == {"prompt": "a red fox running through snow", "duration": 8, "resolution": "1080p"}
    assert fake.requests_to(rf"^/fal-ai/ltx-2/requests/{result.vendor_job_id}/status$", "GET")
    assert result.video_path.exists()


@pytest.mark.parametrize("namespace", ["workflows", "comfy"])
def test_namespaced_app_ids_keep_their_namespace_in_queue_urls(namespace):
    """fal's client (AppId.from_endpoint_id) reads "workflows/owner/alias/..." as a namespace."""
    assert app_root(f"{namespace}/screentest/text-to-video/extra") == f"{namespace}/screentest/text-to-video"
    assert app_root("fal-ai/pika/v2.2/text-to-video") == "fal-ai/pika"


def test_a_workflow_app_is_polled_under_its_namespace(fake, tmp_path):
    app = "workflows/screentest/text-to-video"
    request = make_request("fal", app_id=app, input_fields=["prompt", "duration"], extra_input={})
    result, _ = generate("fal", request, tmp_path)
    rid = result.vendor_job_id
    assert fake.requests_to(rf"^/workflows/screentest/text-to-video/requests/{rid}/status$", "GET")
    assert fake.requests_to(rf"^/workflows/screentest/text-to-video/requests/{rid}$", "GET")


def test_an_input_the_app_does_not_take_is_refused_by_the_fake(fake, tmp_path):
    request = make_request("fal", app_id="fal-ai/ltx-2/text-to-video/fast", durations=[6], extra_input={})
    with pytest.raises(PermanentError) as caught:  # aspect_ratio, negative_prompt, seed: not LTX-2 inputs
        generate("fal", request, tmp_path)
    assert caught.value.code == "invalid_request" and "unrecognized" in str(caught.value)


def test_pika_input_outside_its_enums_is_a_permanent_error(fake, tmp_path):
    with pytest.raises(PermanentError) as caught:
        generate("fal", make_request("fal", extra_input={"resolution": "4k"}), tmp_path)
    assert caught.value.code == "invalid_request" and "resolution" in str(caught.value)


WAN = {
    "app_id": "fal-ai/wan/v2.2-a14b/text-to-video",
    "durations": [5, 10],
    "duration_format": "frames",
    "frames_per_second": 16,
    "input_fields": {"prompt": "prompt", "duration": "num_frames", "aspect_ratio": "aspect_ratio", "seed": "seed"},
    "sizes": {"16:9": [1280, 720], "9:16": [720, 1280]},
    "extra_input": {"frames_per_second": 16, "resolution": "720p"},
}


@pytest.mark.parametrize("asked, frames", [(4, 81), (5, 81), (7, 161), (10, 161)])
def test_a_model_that_counts_frames_gets_one_plus_seconds_times_its_frame_rate(fake, tmp_path, asked, frames):
    """Wan 2.2 on fal takes num_frames (17-161) at frames_per_second, not seconds: 81 frames at
    16 fps is its 5 s clip (fal prices "video seconds calculated at 16 frames per second")."""
    result, _ = generate("fal", make_request("fal", duration_s=asked, **WAN), tmp_path)
    body = fake.requests_to(r"^/fal-ai/wan/v2.2-a14b/text-to-video$", "POST")[0].json
    assert body["num_frames"] == frames and body["frames_per_second"] == 16
    assert "duration" not in body
    assert result.video_path.exists()


def test_a_frames_entry_must_say_its_frame_rate():
    from workers.backends.capabilities import check_entry

    params = {key: value for key, value in WAN.items() if key != "frames_per_second"}
    reasons = check_entry("fal", params, [5, 10], ["16:9"])
    assert reasons and "frames_per_second" in reasons[0]
