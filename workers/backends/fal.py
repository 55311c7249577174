"""fal.ai's queue API: any fal-hosted video model from catalog data alone (Pika is one).

catalog params: `app_id` (e.g. "fal-ai/pika/v2.2/text-to-video"), `input_fields`,
`duration_format` (with `frames_per_second` for "frames"), `extra_input`, `durations`, `sizes`, `audio` (none/optional/always: what
the model's page says of sound), `output_path` (default "video.url"), and `sources`.
submit: POST {base}/{app_id} with the model's input JSON -> {"request_id", ...}
status: GET {base}/[{namespace}/]{owner}/{alias}/requests/{id}/status: IN_QUEUE / IN_PROGRESS
        -> COMPLETED (COMPLETED may carry `error` / `error_type`: the run failed)
result: GET {base}/[{namespace}/]{owner}/{alias}/requests/{id} -> the model's output JSON
        The namespace is one of fal's APP_NAMESPACES ("workflows", "comfy"): fal-ai/fal
        projects/fal_client/src/fal_client/client.py (AppId.from_endpoint_id).
policy: 422 whose detail items have type "content_policy_violation" (at submit or result), or
        a COMPLETED status whose error_type says so.
lost create answer: the queue API takes no idempotency key and lists no requests; fal's
        Platform API lists requests by endpoint (GET https://api.fal.ai/v1/models/requests/
        by-endpoint), but on another host and ordered by end time, so a request still queued
        may not be there: not used. The job ends `create_outcome_unknown` (vendor.py).
The URLs are rebuilt from the app id (as fal's own client does) rather than taken from the
response, so a resumed job needs only the request id, and the key only goes to the base URL.
"""

from __future__ import annotations

from .base import PermanentError, VendorPolicyRejection
from .hosted import hosted_capabilities
from .httpclient import short
from .vendor import Poll, PollingBackend, dig, model_input, required_param, sounds_like_policy

POLICY_TYPES = {"content_policy_violation"}
APP_NAMESPACES = ("workflows", "comfy")


def _policy_in(body) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("error_type") in POLICY_TYPES:
        return True
    detail = body.get("detail")
    return isinstance(detail, list) and any(isinstance(d, dict) and d.get("type") in POLICY_TYPES for d in detail)


def app_root(app_id: str) -> str:
    """Where an app's queue requests live: [namespace/]owner/alias, as fal's client builds it."""
    parts = app_id.strip("/").split("/")
    namespace = parts[:1] if parts[0] in APP_NAMESPACES else []
    owner_alias = parts[len(namespace) : len(namespace) + 2]
    if len(owner_alias) < 2 or not all(owner_alias):
        raise PermanentError(
            f"fal app_id {app_id!r} must look like [namespace/]owner/alias[/path]", code="invalid_request"
        )
    return "/".join(namespace + owner_alias)


class FalBackend(PollingBackend):
    key = "fal"
    vendor = "fal.ai"
    default_base_url = "https://queue.fal.run"
    # fal's output files (fal docs: e.g. https://v3.fal.media/files/...).
    default_download_hosts = ("fal.media", ".fal.media")
    key_env_names = ("FAL_KEY",)
    default_poll_interval_s = 2.0

    @classmethod
    def capabilities(cls, params):
        return hosted_capabilities(params, host="fal")

    def headers(self, api_key, config):
        return {"Authorization": f"Key {api_key}"}

    def classify(self, response, body):
        if _policy_in(body) or response.headers.get("x-fal-error-type") in POLICY_TYPES:
            return VendorPolicyRejection(f"refused by content policy: {short(body)}")
        return None

    def create(self, client, request, config):
        app_id = required_param(config.params, "app_id")
        body = model_input(request, config, self.seconds_sent(request, config))
        return str(client.json("POST", app_id.strip("/"), json=body)["request_id"])

    def check(self, client, job_id, config):
        root = app_root(required_param(config.params, "app_id"))
        status = client.json("GET", f"{root}/requests/{job_id}/status")
        state = status.get("status")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return Poll(False)
        if state != "COMPLETED":
            raise PermanentError(f"request {job_id}: unexpected status {state!r}", code="vendor_bad_response")
        if status.get("error"):
            message = f"request {job_id} failed: {status.get('error_type', '')} {status.get('error')}"
            if status.get("error_type") in POLICY_TYPES or sounds_like_policy(status.get("error")):
                raise VendorPolicyRejection(message)
            raise PermanentError(message, code="vendor_failed")
        return Poll(True, client.json("GET", f"{root}/requests/{job_id}"))

    def output_url(self, payload):
        url = dig(payload, self._output_path)
        if not isinstance(url, str) or not url:
            raise PermanentError(f"fal result has no {self._output_path}", code="vendor_bad_response")
        return url

    def fetch(self, client, job_id, payload, dest, config, api_key):
        self._output_path = config.params.get("output_path", "video.url")
        return super().fetch(client, job_id, payload, dest, config, api_key)

    def metadata(self, payload):
        return {"vendor": self.vendor, "seed": payload.get("seed") if isinstance(payload, dict) else None}
