"""OpenAI Sora through the Videos API.

OpenAI announced that the Sora 2 models and the Videos API shut down on September 24, 2026
(see docs/backends.md): expect 404/410 from the live endpoint after that date; the adapter
is kept for operators with access and for the contract tests.

create: POST /v1/videos {"model", "prompt", "seconds": "<string>", "size": "WxH"}
poll:   GET /v1/videos/{id}, waiting as long as the `openai-poll-after-ms` header says
output: GET /v1/videos/{id}/content (bytes, with the API key; no URL is returned)
policy: 400 with error.code moderation_blocked (or similar) at create, or status "failed"
        with such an error code.
"""

from __future__ import annotations

from pathlib import Path

from .base import PermanentError, VendorPolicyRejection
from .download import download
from .vendor import Poll, PollingBackend, as_number_text, pick_duration, required_param, sounds_like_policy

POLICY_CODES = {"moderation_blocked", "content_policy_violation", "content_filter", "safety_violation"}


def _error(body) -> dict:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


class SoraBackend(PollingBackend):
    key = "openai-sora"
    vendor = "OpenAI Sora"
    default_base_url = "https://api.openai.com/v1"
    default_api_key_env = "OPENAI_API_KEY"
    default_poll_interval_s = 1.0

    def headers(self, api_key, config):
        headers = {"Authorization": f"Bearer {api_key}"}
        for header, param in (("OpenAI-Organization", "organization"), ("OpenAI-Project", "project")):
            if config.params.get(param):
                headers[header] = str(config.params[param])
        return headers

    def classify(self, response, body):
        error = _error(body)
        if error.get("code") in POLICY_CODES:
            return VendorPolicyRejection(f"create refused: {error.get('message', '')}")
        return None

    def seconds_sent(self, request, config):
        return pick_duration(request.duration_s, config.params.get("durations", [4, 8, 12]))

    def create(self, client, request, config):
        body = {
            "model": required_param(config.params, "vendor_model"),
            "prompt": request.prompt,
            "seconds": as_number_text(self.seconds_sent(request, config)),  # a string, per the API
            "size": f"{request.width}x{request.height}",
        }
        video = client.json("POST", "videos", json=body)
        return str(video["id"])

    def check(self, client, job_id, config):
        response = client.request("GET", f"videos/{job_id}")
        video = response.json()
        status = video.get("status")
        if status == "completed":
            return Poll(True, video)
        if status == "failed":
            error = video.get("error") or {}
            message = f"job {job_id} failed: {error.get('code', '')} {error.get('message', '')}".strip()
            if error.get("code") in POLICY_CODES or sounds_like_policy(error.get("message")):
                raise VendorPolicyRejection(message)
            raise PermanentError(message, code="vendor_failed")
        wait_ms = response.headers.get("openai-poll-after-ms")
        wait = float(wait_ms) / 1000 if wait_ms and wait_ms.isdigit() else None
        return Poll(False, wait_s=wait)

    def fetch(self, client, job_id, payload, dest: Path, config, api_key):
        url = client.url(f"videos/{job_id}/content?variant=video")
        return download(
            url,
            dest,
            allowed_hosts=config.download_hosts,
            max_bytes=config.max_download_bytes,
            auth_headers={"Authorization": f"Bearer {api_key}", "Accept": "application/binary"},
            secrets=[api_key],
            vendor=self.vendor,
        )

    def metadata(self, payload):
        return {
            "vendor": self.vendor,
            "model": payload.get("model"),
            "seconds": payload.get("seconds"),
            "size": payload.get("size"),
            "expires_at": payload.get("expires_at"),
        }
