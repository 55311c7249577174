"""Runway adapter vs the fake: version header, camelCase body, THROTTLED is just waiting."""

import httpx
import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_runway import API_KEY, VERSION
from workers.backends.base import RetryableError, VendorPolicyRejection
from workers.backends.registry import get_backend


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("runway")


def test_every_request_carries_the_version_header_and_a_camelcase_body(fake, tmp_path):
    result, _ = generate("runway", make_request("runway", duration_s=4), tmp_path)
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
    generate("runway", make_request("runway"), tmp_path)
    assert len(fake.requests_to(r"^/v1/tasks/", "GET")) == 6


def test_a_missing_version_header_is_refused_by_the_fake(fake):
    reply = httpx.post(f"{fake.url}/v1/text_to_video", json={}, headers={"Authorization": f"Bearer {API_KEY}"})
    assert reply.status_code == 400 and "X-Runway-Version" in reply.json()["error"]


def test_bad_output_is_retried_by_a_new_task_not_by_polling_the_failed_one(fake, tmp_path):
    """INTERNAL.BAD_OUTPUT may be retried (Runway's task-failures page), but the failed task
    stays failed: the retry that resumes it creates a new task, and reports its id."""
    fake.flag_next_job("bad-output")
    submitted: list[str] = []
    with pytest.raises(RetryableError) as caught:
        get_backend("runway").generate(
            make_request("runway"), workdir=tmp_path, resume_vendor_job_id=None, on_submitted=submitted.append
        )
    assert not isinstance(caught.value, VendorPolicyRejection)
    result, resubmitted = generate("runway", make_request("runway"), tmp_path, resume=submitted[-1])
    assert len(fake.jobs) == 2 and resubmitted == [result.vendor_job_id] != submitted
    assert result.video_path.exists()


def test_input_preprocessing_safety_is_a_policy_refusal(fake, tmp_path):
    fake.fail_next(
        200,
        {
            "id": "t1",
            "createdAt": "2026-11-21T12:00:00.000Z",
            "status": "FAILED",
            "failure": "Prompt rejected",
            "failureCode": "INPUT_PREPROCESSING.SAFETY.TEXT",
        },
        method="GET",
        path=r"^/v1/tasks/",
    )
    with pytest.raises(VendorPolicyRejection):
        generate("runway", make_request("runway"), tmp_path)


@pytest.mark.parametrize("model", ["veo3.1", "veo3.1_fast", "veo3"])
def test_veo_models_on_runway_get_no_seed_but_their_negative_prompt_and_audio(fake, tmp_path, model):
    sizes = {"16:9": [1920, 1080], "9:16": [1080, 1920]}
    request = make_request(
        "runway",
        duration_s=8,
        negative_prompt="blur",
        vendor_model=model,
        durations=None,
        sizes=sizes,
        generate_audio=False if model != "veo3" else None,
    )
    generate("runway", request, tmp_path)
    body = fake.requests_to(r"^/v1/text_to_video$", "POST")[0].json
    assert "seed" not in body
    assert body["negativePrompt"] == "blur" and body["ratio"] == "1920:1080" and body["duration"] == 8
    assert body.get("audio") is (False if model != "veo3" else None)


def test_the_fake_refuses_a_seed_for_veo(fake):
    reply = httpx.post(
        f"{fake.url}/v1/text_to_video",
        json={"model": "veo3.1", "promptText": "x", "ratio": "1280:720", "seed": 3},
        headers={"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": VERSION},
    )
    assert reply.status_code == 400 and reply.json()["issues"][0]["code"] == "unrecognized_keys"
