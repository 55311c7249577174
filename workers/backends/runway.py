"""Runway's API (text_to_video).

create: POST /v1/text_to_video, camelCase JSON {"model", "promptText", "ratio": "1280:720",
        "duration": int, "seed"}; every request carries `X-Runway-Version`.
poll:   GET /v1/tasks/{id}: PENDING / THROTTLED (over our concurrency: queued by Runway, not
        an error) / RUNNING -> SUCCEEDED (output: [url]) | FAILED | CANCELLED.
policy: asynchronous, FAILED with failureCode SAFETY.INPUT.* / SAFETY.OUTPUT.* (never retried).
cost:   credits per second from the catalog (1 credit = $0.01).
"""

from __future__ import annotations

from .base import PermanentError, RetryableError, VendorPolicyRejection
from .vendor import Poll, PollingBackend, pick_duration, required_param

API_VERSION = "2024-11-06"
WAITING = {"PENDING", "THROTTLED", "RUNNING"}


class RunwayBackend(PollingBackend):
    key = "runway"
    vendor = "Runway"
    default_base_url = "https://api.dev.runwayml.com"
    default_download_hosts = (".runwayml.com", ".cloudfront.net")
    default_api_key_env = "RUNWAYML_API_SECRET"
    default_poll_interval_s = 6.0

    def headers(self, api_key, config):
        return {
            "Authorization": f"Bearer {api_key}",
            "X-Runway-Version": str(config.params.get("api_version", API_VERSION)),
        }

    def seconds_sent(self, request, config):
        return pick_duration(request.duration_s, config.params.get("durations", [5, 10]))

    def create(self, client, request, config):
        body = {
            "model": required_param(config.params, "vendor_model"),
            "promptText": request.prompt,
            "ratio": f"{request.width}:{request.height}",
            "duration": int(self.seconds_sent(request, config)),
        }
        if config.params.get("send_seed", True):
            body["seed"] = int(request.seed) % 4294967296
        return str(client.json("POST", "v1/text_to_video", json=body)["id"])

    def check(self, client, job_id, config):
        task = client.json("GET", f"v1/tasks/{job_id}")
        status = task.get("status")
        if status == "SUCCEEDED":
            return Poll(True, task)
        if status in WAITING:
            return Poll(False)
        code = str(task.get("failureCode") or "")
        message = f"task {job_id} {status}: {code} {task.get('failure', '')}".strip()
        if code.startswith("SAFETY."):
            raise VendorPolicyRejection(message)
        if code.startswith("INTERNAL.BAD_OUTPUT"):
            raise RetryableError(message, code="vendor_failed")
        raise PermanentError(message, code="vendor_cancelled" if status == "CANCELLED" else "vendor_failed")

    def output_url(self, payload):
        output = payload.get("output") or []
        if not output:
            raise PermanentError("Runway reported success without an output URL", code="vendor_bad_response")
        return output[0]

    def cost_usd(self, request, payload, config):
        credits = config.params.get("credits_per_second")
        if credits is None:
            return super().cost_usd(request, payload, config)
        return round(float(credits) * 0.01 * self.seconds_sent(request, config), 4)

    def metadata(self, payload):
        return {"vendor": self.vendor, "task_id": payload.get("id"), "created_at": payload.get("createdAt")}
