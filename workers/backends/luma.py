"""Luma Dream Machine, the generations API (the legacy `dream-machine/v1` surface; the newer
Agents API is a different contract and would be a separate file).

create: POST /generations/video {"model", "prompt", "aspect_ratio", "duration": "5s", "resolution"}
poll:   GET /generations/{id}: queued / dreaming -> completed (assets.video) | failed (failure_reason)
policy: failure_reason text (no codes on this surface), or a 400 at create that says so.
"""

from __future__ import annotations

from .base import PermanentError, VendorPolicyRejection
from .httpclient import short
from .vendor import (
    Poll,
    PollingBackend,
    as_number_text,
    failed_job_error,
    pick_duration,
    required_param,
    sounds_like_policy,
)


class LumaBackend(PollingBackend):
    key = "luma"
    vendor = "Luma Dream Machine"
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"
    default_download_hosts = (".lumalabs.ai", ".cloudfront.net")
    default_api_key_env = "LUMAAI_API_KEY"
    default_poll_interval_s = 3.0

    def classify(self, response, body):
        if response.status_code in (400, 422) and sounds_like_policy(short(body)):
            return VendorPolicyRejection(f"create refused: {short(body)}")
        return None

    def seconds_sent(self, request, config):
        return pick_duration(request.duration_s, config.params.get("durations", [5, 9]))

    def create(self, client, request, config):
        body = {
            "model": required_param(config.params, "vendor_model"),
            "prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "duration": f"{as_number_text(self.seconds_sent(request, config))}s",
        }
        if config.params.get("resolution"):
            body["resolution"] = config.params["resolution"]
        return str(client.json("POST", "generations/video", json=body)["id"])

    def check(self, client, job_id, config):
        generation = client.json("GET", f"generations/{job_id}")
        state = generation.get("state")
        if state == "completed":
            return Poll(True, generation)
        if state in ("queued", "dreaming"):
            return Poll(False)
        reason = generation.get("failure_reason") or ""
        message = f"generation {job_id} {state}: {reason}"
        raise failed_job_error(message, reason)

    def output_url(self, payload):
        url = (payload.get("assets") or {}).get("video")
        if not url:
            raise PermanentError("Luma reported completion without assets.video", code="vendor_bad_response")
        return url

    def metadata(self, payload):
        return {"vendor": self.vendor, "model": payload.get("model"), "generation_id": payload.get("id")}
