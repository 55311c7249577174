"""Luma Agents adapter (Ray 3.2) vs the fake Agents API, which validates requests against
Luma's published schema (tests/fakes/fake_luma_agents.py names the sources)."""

import httpx
import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_luma_agents import API_KEY
from workers.backends.base import PermanentError, VendorJobDiscarded, VendorPolicyRejection


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("luma-agents")


def test_create_nests_the_video_options_then_polls_to_the_video_output(fake, tmp_path):
    fake.running_polls = 2
    result, submitted = generate(
        "luma-agents", make_request("luma-agents", duration_s=8, aspect_ratio="9:16"), tmp_path
    )
    create = fake.requests_to(r"^/v1/generations$", "POST")[0]
    assert create.json == {
        "model": "ray-3.2",
        "type": "video",
        "prompt": "a red fox running through snow",
        "aspect_ratio": "9:16",
        "video": {"duration": "10s", "resolution": "720p"},
    }
    assert create.header("authorization") == f"Bearer {API_KEY}"
    assert len(fake.requests_to(r"^/v1/generations/[\w-]+$", "GET")) == 4  # queued, processing x2, completed
    assert submitted == [result.vendor_job_id] and result.video_path.exists()
    assert result.cost_usd is None  # Luma prices per clip; its video table could not be read
    assert result.vendor_metadata["model"] == "ray-3.2"


def test_without_operator_download_hosts_nothing_is_sent_or_paid_for(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS")
    with pytest.raises(PermanentError) as caught:
        generate("luma-agents", make_request("luma-agents"), tmp_path)
    assert caught.value.code == "download_hosts_unset"
    assert fake.recorded == [] and fake.jobs == {}


def test_a_resolution_ray_3_2_does_not_take_fails_before_any_request(fake, tmp_path):
    with pytest.raises(PermanentError) as caught:
        generate("luma-agents", make_request("luma-agents", resolution="4k"), tmp_path)
    assert caught.value.code == "invalid_request" and fake.jobs == {}


def test_moderation_is_reported_when_polling_and_is_a_vendor_refusal(fake, tmp_path):
    with pytest.raises(VendorPolicyRejection, match="content_moderated"):
        generate("luma-agents", make_request("luma-agents", "a scene [[policy]]"), tmp_path)
    assert len(fake.jobs) == 1


def test_a_generation_failed_job_is_retried_as_a_new_generation(fake, tmp_path):
    """Luma: generation_failed "retry same request": the failed generation stays failed, so
    the retry (which resumes the stored id) must create a new one."""
    fake.flag_next_job("bad-output")
    (tmp_path / "first").mkdir()
    with pytest.raises(VendorJobDiscarded):
        generate("luma-agents", make_request("luma-agents"), tmp_path / "first")
    failed_id = next(iter(fake.jobs))
    result, submitted = generate("luma-agents", make_request("luma-agents"), tmp_path, resume=failed_id)
    assert result.vendor_job_id != failed_id and submitted == [result.vendor_job_id]
    assert len(fake.jobs) == 2


@pytest.mark.parametrize(
    "failure_code, error, code",
    [
        ("content_moderated", VendorPolicyRejection, "rejected_by_vendor"),
        ("generation_failed", VendorJobDiscarded, "vendor_job_discarded"),
        ("output_not_found", VendorJobDiscarded, "vendor_job_discarded"),
        ("rate_limited", VendorJobDiscarded, "vendor_job_discarded"),
        ("budget_exhausted", PermanentError, "account_problem"),
        ("corrupt_input", PermanentError, "vendor_failed"),
        ("invalid_request", PermanentError, "vendor_failed"),
    ],
)
def test_each_documented_failure_code_has_its_outcome(fake, tmp_path, failure_code, error, code):
    fake.failure = (failure_code, "as documented")
    fake.flag_next_job("fail")
    with pytest.raises(error) as caught:
        generate("luma-agents", make_request("luma-agents"), tmp_path)
    assert caught.value.code == code
    assert type(caught.value) is error  # a final failure is neither a refusal nor a retry


def test_an_unknown_state_is_not_waited_on(fake, tmp_path):
    fake.fail_next(200, {"id": "x", "state": "archived"}, method="GET")
    with pytest.raises(PermanentError) as caught:
        generate("luma-agents", make_request("luma-agents"), tmp_path)
    assert caught.value.code == "vendor_bad_response"


@pytest.mark.parametrize("status", [402, 403])
def test_balance_and_suspension_are_account_problems_not_retried(fake, tmp_path, status):
    fake.fail_next(status, {"detail": "Insufficient balance"}, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate("luma-agents", make_request("luma-agents"), tmp_path)
    assert caught.value.code == "account_problem"


def post(fake, body):
    return httpx.post(f"{fake.url}/v1/generations", json=body, headers={"Authorization": f"Bearer {API_KEY}"})


def test_the_fake_refuses_what_the_published_schema_refuses(fake):
    video = {"model": "ray-3.2", "type": "video", "prompt": "p"}
    assert post(fake, {**video, "video": {"duration": "5s"}}).status_code == 201
    for body in (
        {**video, "duration": "5s"},  # top-level duration: the options live under `video`
        {**video, "video": {"duration": "9s"}},
        {**video, "video": {"resolution": "4k"}},
        {**video, "aspect_ratio": "5:4"},
        {"model": "ray-3.2", "type": "video"},  # no prompt
    ):
        answer = post(fake, body)
        assert answer.status_code == 400 and answer.json()["detail"], body
    for body in (
        {**video, "aspect_ratio": "3:1"},  # in the SDK's enum, not a ray-3.2 video ratio
        {**video, "video": {"duration": "10s", "loop": True}},
        {**video, "video": {"exr_export": True}},
        {**video, "video": {"hdr": True, "resolution": "540p"}},
        {**video, "video": {"duration": "10s", "start_frame": {"url": "https://example.com/a.jpg"}}},
        {"type": "video", "prompt": "p"},  # the default model is uni-1, an image model
    ):
        answer = post(fake, body)
        assert answer.status_code == 422 and answer.json()["detail"], body
