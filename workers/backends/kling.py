"""Kling AI, the official API (access key + secret key).

Source: Kling's API reference (Kling AI developer docs: "General Info" for auth and the
error-code table, "Video Generation > Text to Video" for the body).
auth:   every request carries `Authorization: Bearer <JWT>`, HS256, payload
        {"iss": access_key, "exp": now+1800, "nbf": now-5}, signed with the secret key (PyJWT,
        as Kling's own sample code does).
create: POST /v1/videos/text2video {"model_name", "prompt", "negative_prompt", "duration": "5",
        "aspect_ratio", "mode", "sound": "on"|"off" (kling-v2-6 and later), "external_task_id"}
poll:   GET /v1/videos/text2video/{task_id}: submitted / processing -> succeed | failed
errors: every body is {"code", "message", "request_id"}; code 0 = ok.
        1301 = content security policy: a refusal. 1300 = "trigger strategy of the platform":
        not said to be about content, so a plain permanent failure. 1100-1102 (account, arrears,
        resource pack) and 1103 (no access) and 1304 (IP whitelisting: "contact customer
        service") are account problems, never retried. 1302/1303 (rate, concurrency) and
        5000-5002 are retried.
external_task_id: our job reference, unique per account (documented); Kling documents no
        answer for a duplicate, so when a create is refused as an invalid request (1201) we ask
        for the task by that reference (documented query) and adopt it if it exists; a create
        whose answer was lost is looked up the same way (`find_created`): never paid twice.
"""

from __future__ import annotations

import time

import jwt

from .base import PermanentError, RetryableError, VendorPolicyRejection
from .capabilities import AUDIO_NONE, AUDIO_OPTIONAL, Capabilities, seconds_range
from .httpclient import parse_retry_after
from .secrets import require_secret
from .vendor import CANNOT_LOOK, Poll, PollingBackend, as_number_text, failed_job_error, required_param

TOKEN_LIFETIME_S = 1800
POLICY_CODES = {1301}
ACCOUNT_CODES = {1100, 1101, 1102, 1103, 1304}
RETRY_CODES = {1302, 1303, 5000, 5001, 5002}
INVALID_PARAMETERS = 1201
DOC_SOURCE = "Kling AI API reference, Video Generation > Text to Video"


def _kling(durations, *, sound: bool) -> Capabilities:
    return Capabilities(
        durations=tuple(float(d) for d in durations),
        aspect_ratios=("16:9", "9:16", "1:1"),
        audio=AUDIO_OPTIONAL if sound else AUDIO_NONE,
        negative_prompt=True,
        source=DOC_SOURCE,
    )


def make_jwt(access_key: str, secret_key: str, *, now: float | None = None) -> str:
    now = int(time.time() if now is None else now)
    payload = {"iss": access_key, "exp": now + TOKEN_LIFETIME_S, "nbf": now - 5}
    return jwt.encode(payload, secret_key, algorithm="HS256", headers={"typ": "JWT"})


def _code(body) -> int | None:
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return body["code"]
    return None


class InvalidParameters(PermanentError):
    """Kling's 1201: a wrong parameter, or (undocumented) a reused external_task_id."""


class KlingBackend(PollingBackend):
    key = "kling"
    vendor = "Kling"
    default_base_url = "https://api-singapore.klingai.com"
    # Kling's own docs serve media from *.klingai.com (e.g. p2-kling.klingai.com).
    default_download_hosts = (".klingai.com",)
    key_env_names = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")
    default_poll_interval_s = 5.0
    MODELS = {
        "kling-v1": _kling((5, 10), sound=False),
        "kling-v1-6": _kling((5, 10), sound=False),
        "kling-v2-master": _kling((5, 10), sound=False),
        "kling-v2-1-master": _kling((5, 10), sound=False),
        "kling-v2-5-turbo": _kling((5, 10), sound=False),
        "kling-v2-6": _kling((5, 10), sound=True),
        "kling-v3": _kling(seconds_range(3, 15), sound=True),
    }

    def headers(self, access_key, config):
        secret = require_secret(self.key_env_names[1])
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
        if code == INVALID_PARAMETERS:
            return InvalidParameters(message, code="invalid_request")
        if code == 1300:
            return PermanentError(f"refused by a platform strategy: {message}", code="vendor_refused")
        if code in ACCOUNT_CODES:
            return PermanentError(message, code="account_problem")
        if code in RETRY_CODES:
            return RetryableError(
                message,
                retry_after=parse_retry_after(response.headers),
                code="rate_limited" if code < 5000 else "vendor_unavailable",
            )
        return None

    def create(self, client, request, config):
        spec = self.model_spec(config)
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
        if spec.audio == AUDIO_OPTIONAL and config.params.get("generate_audio") is not None:
            body["sound"] = "on" if config.params["generate_audio"] else "off"
        body = {k: v for k, v in body.items() if v is not None}
        try:
            envelope = client.json("POST", "v1/videos/text2video", json=body)
        except InvalidParameters:
            envelope = self._earlier_task(client, body.get("external_task_id"))
            if envelope is None:
                raise
        self._check_envelope(envelope)
        return str(envelope["data"]["task_id"])

    def _earlier_task(self, client, external_task_id: str | None):
        """The task an earlier attempt of this job created, found by our reference, or None."""
        if not external_task_id:
            return None
        try:
            envelope = client.json("GET", f"v1/videos/text2video/{external_task_id}")
        except PermanentError:
            return None
        if not isinstance(envelope, dict):
            return None
        data = envelope.get("data") if _code(envelope) == 0 else None
        info = (data or {}).get("task_info") or {}
        return envelope if info.get("external_task_id") == external_task_id else None

    def find_created(self, client, request, config, since):
        """Exact: the task carrying our job reference as its external_task_id (unique per account)."""
        if not request.client_reference:
            return CANNOT_LOOK
        envelope = self._earlier_task(client, request.client_reference)
        return str(envelope["data"]["task_id"]) if envelope else None

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
