"""Kling AI, the official API (access key + secret key).

auth:   every request carries `Authorization: Bearer <JWT>`, HS256, payload
        {"iss": access_key, "exp": now+1800, "nbf": now-5}, signed with the secret key.
        Hand-rolled with hmac (RFC 7519 HS256 is ~10 lines) rather than a dependency; the
        contract tests verify it with PyJWT independently.
create: POST /v1/videos/text2video {"model_name", "prompt", "negative_prompt", "duration": "5",
        "aspect_ratio", "mode", "external_task_id"}
poll:   GET /v1/videos/text2video/{task_id}: submitted / processing -> succeed | failed
errors: every body is {"code", "message", "request_id"}; code 0 = ok. 1300/1301 = platform /
        content-security policy (at create); async policy failures only say so in task_status_msg.
        1100-1102 (account, arrears, resource pack) are not retried; 1302-1304 and 5000+ are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from .base import PermanentError, RetryableError, VendorPolicyRejection
from .httpclient import parse_retry_after
from .secrets import require_secret
from .vendor import Poll, PollingBackend, as_number_text, failed_job_error, pick_duration, required_param

TOKEN_LIFETIME_S = 1800
POLICY_CODES = {1300, 1301}
ACCOUNT_CODES = {1100, 1101, 1102}
RETRY_CODES = {1302, 1303, 1304, 5000, 5001, 5002}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(access_key: str, secret_key: str, *, now: float | None = None) -> str:
    now = int(time.time() if now is None else now)
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": access_key, "exp": now + TOKEN_LIFETIME_S, "nbf": now - 5}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload))
    signature = hmac.new(secret_key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


class DuplicateExternalTaskId(PermanentError):
    """Our job already created a Kling task (its create answer was lost): adopt that task."""


def _code(body) -> int | None:
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return body["code"]
    return None


class KlingBackend(PollingBackend):
    key = "kling"
    vendor = "Kling"
    default_base_url = "https://api-singapore.klingai.com"
    default_download_hosts = (".klingai.com", ".kechuangai.com")
    default_api_key_env = "KLING_ACCESS_KEY"
    default_poll_interval_s = 5.0

    def headers(self, access_key, config):
        secret_env = config.params.get("secret_key_env", "KLING_SECRET_KEY")
        secret = require_secret(secret_env)
        token = make_jwt(access_key, secret)
        self.extra_secrets += [secret, token]
        return {"Authorization": f"Bearer {token}"}

    def classify(self, response, body):
        code = _code(body)
        message = (
            f"HTTP {response.status_code} code {code}: {body.get('message', '') if isinstance(body, dict) else ''}"
        )
        if code in POLICY_CODES:
            return VendorPolicyRejection(f"create refused: {message}")
        if code == 1201 and "external_task_id" in message:
            return DuplicateExternalTaskId(message, code="invalid_request")
        if code in ACCOUNT_CODES:
            return PermanentError(message, code="account_problem")
        if code in RETRY_CODES:
            return RetryableError(
                message,
                retry_after=parse_retry_after(response.headers),
                code="rate_limited" if code < 5000 else "vendor_unavailable",
            )
        return None

    def seconds_sent(self, request, config):
        return pick_duration(request.duration_s, config.params.get("durations", [5, 10]))

    def create(self, client, request, config):
        body = {
            "model_name": required_param(config.params, "vendor_model"),
            "prompt": request.prompt,
            "duration": as_number_text(self.seconds_sent(request, config)),
            "aspect_ratio": request.aspect_ratio,
            "mode": config.params.get("mode", "std"),
            "external_task_id": request.client_reference or None,
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        body = {k: v for k, v in body.items() if v is not None}
        try:
            envelope = client.json("POST", "v1/videos/text2video", json=body)
        except DuplicateExternalTaskId:
            # A previous attempt's create reached Kling but its answer did not reach us: the
            # external_task_id (our job reference) finds that task, so we never pay twice.
            envelope = client.json("GET", f"v1/videos/text2video/{body['external_task_id']}")
        self._check_envelope(envelope)
        return str(envelope["data"]["task_id"])

    def _check_envelope(self, envelope) -> None:
        code = _code(envelope)
        if code != 0:
            raise PermanentError(
                f"unexpected response code {code}: {envelope.get('message', '')}", code="vendor_bad_response"
            )

    def check(self, client, job_id, config):
        envelope = client.json("GET", f"v1/videos/text2video/{job_id}")
        self._check_envelope(envelope)
        data = envelope.get("data") or {}
        status = data.get("task_status")
        if status == "succeed":
            return Poll(True, data)
        if status in ("submitted", "processing"):
            return Poll(False)
        reason = data.get("task_status_msg") or ""
        message = f"task {job_id} {status}: {reason}"
        raise failed_job_error(message, reason)

    def output_url(self, payload):
        videos = (payload.get("task_result") or {}).get("videos") or []
        if not videos or not videos[0].get("url"):
            raise PermanentError("Kling reported success without a video URL", code="vendor_bad_response")
        return videos[0]["url"]

    def metadata(self, payload):
        videos = (payload.get("task_result") or {}).get("videos") or [{}]
        return {"vendor": self.vendor, "task_id": payload.get("task_id"), "duration": videos[0].get("duration")}
