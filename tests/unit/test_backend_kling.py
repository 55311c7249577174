"""Kling adapter vs the fake: the JWT (checked with PyJWT), string durations, body codes."""

import time

import httpx
import jwt
import pytest

from tests.fakes.contract import generate, make_request, vendor_env  # noqa: F401
from tests.fakes.fake_kling import ACCESS_KEY, SECRET_KEY
from workers.backends.base import PermanentError, RetryableError, VendorPolicyRejection
from workers.backends.kling import make_jwt


@pytest.fixture
def fake(vendor_env):
    return vendor_env.start("kling")


def test_the_jwt_has_the_documented_claims_and_verifies_with_the_secret_key(fake, tmp_path):
    before = int(time.time())
    generate("kling", make_request("kling", negative_prompt="blur"), tmp_path)
    token = fake.requests_to(r"text2video$", "POST")[0].header("authorization").removeprefix("Bearer ")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    assert claims["iss"] == ACCESS_KEY
    assert before + 1800 <= claims["exp"] <= int(time.time()) + 1800
    assert before - 5 <= claims["nbf"] <= int(time.time()) - 5
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-at-least-32-bytes!!", algorithms=["HS256"])


def test_create_body_uses_string_duration_and_our_reference(fake, tmp_path):
    generate("kling", make_request("kling", duration_s=7, negative_prompt="blur"), tmp_path)
    body = fake.requests_to(r"text2video$", "POST")[0].json
    assert body == {
        "model_name": "kling-v2-1-master",
        "prompt": "a red fox running through snow",
        "negative_prompt": "blur",
        "duration": "10",
        "aspect_ratio": "16:9",
        "mode": "std",
        "external_task_id": "screentest-job-1",
    }


def test_expired_and_future_tokens_are_refused_by_the_fake(fake):
    for token, code in (
        (make_jwt(ACCESS_KEY, SECRET_KEY, now=time.time() - 4000), 1004),
        (make_jwt(ACCESS_KEY, SECRET_KEY, now=time.time() + 600), 1003),
        (make_jwt(ACCESS_KEY, "wrong-secret-wrong-secret-wrong-secret"), 1002),
    ):
        reply = httpx.get(f"{fake.url}/v1/videos/text2video/1", headers={"Authorization": f"Bearer {token}"})
        assert (reply.status_code, reply.json()["code"]) == (401, code)


def test_body_codes_decide_retry(fake, tmp_path):
    fake.fail_next(
        429, {"code": 1303, "message": "parallel task over resource pack limit", "request_id": "r"}, method="POST"
    )
    with pytest.raises(RetryableError):
        generate("kling", make_request("kling"), tmp_path)
    fake.fail_next(429, {"code": 1102, "message": "resource pack depleted", "request_id": "r"}, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate("kling", make_request("kling"), tmp_path)
    assert caught.value.code == "account_problem"


def test_ip_whitelisting_is_an_account_problem_not_a_retry(fake, tmp_path):
    """1304: "Trigger the platform's IP whitelisting policy", to be solved with customer service."""
    body = {"code": 1304, "message": "Trigger the platform's IP whitelisting policy", "request_id": "r"}
    fake.fail_next(429, body, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate("kling", make_request("kling"), tmp_path)
    assert caught.value.code == "account_problem"


def test_platform_strategy_1300_is_not_called_a_content_refusal(fake, tmp_path):
    fake.fail_next(400, {"code": 1300, "message": "Trigger strategy of the platform", "request_id": "r"}, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate("kling", make_request("kling"), tmp_path)
    assert not isinstance(caught.value, VendorPolicyRejection) and caught.value.code == "vendor_refused"
    fake.fail_next(400, {"code": 1301, "message": "Trigger the content security policy", "request_id": "r"})
    with pytest.raises(VendorPolicyRejection):
        generate("kling", make_request("kling"), tmp_path)


def test_an_invalid_parameter_without_an_earlier_task_stays_an_error(fake, tmp_path):
    fake.fail_next(400, {"code": 1201, "message": "Invalid parameters", "request_id": "r"}, method="POST")
    with pytest.raises(PermanentError) as caught:
        generate("kling", make_request("kling"), tmp_path)
    assert caught.value.code == "invalid_request" and len(fake.jobs) == 0


def test_kling_2_6_gets_the_sound_switch_and_older_models_do_not(fake, tmp_path):
    generate("kling", make_request("kling", vendor_model="kling-v2-6", generate_audio=True), tmp_path)
    assert fake.requests_to(r"text2video$", "POST")[0].json["sound"] == "on"
    reply = httpx.post(
        f"{fake.url}/v1/videos/text2video",
        json={"model_name": "kling-v2-1-master", "prompt": "x", "sound": "on"},
        headers={"Authorization": f"Bearer {make_jwt(ACCESS_KEY, SECRET_KEY)}"},
    )
    assert reply.status_code == 400 and reply.json()["code"] == 1201


def test_a_create_whose_answer_was_lost_is_adopted_not_paid_twice(fake, tmp_path):
    """external_task_id is our job reference: a second create for the same job finds the first task."""
    first, _ = generate("kling", make_request("kling"), tmp_path)
    (tmp_path / "again").mkdir()
    second, submitted = generate("kling", make_request("kling"), tmp_path / "again")
    assert second.vendor_job_id == first.vendor_job_id == submitted[0]
    assert len(fake.jobs) == 1 and len(fake.requests_to(r"text2video$", "POST")) == 2
