"""Google Veo through the Gemini API (generativelanguage.googleapis.com, API key auth).

create: POST /v1beta/models/{model}:predictLongRunning
        {"instances": [{"prompt"}], "parameters": {"aspectRatio", "durationSeconds", "resolution",
        "negativePrompt", "sampleCount": 1}}. googleapis/python-genai google/genai/models.py
        (_GenerateVideosConfig_to_mldev) refuses seed, fps, generate_audio, output_gcs_uri,
        pubsub_topic, mask and compression_quality on the Gemini API: no seed is sent, and Veo 3.x
        there always makes sound (no switch).
poll:   GET /v1beta/{operation name} until "done": true, then `error`, or
        response.generateVideoResponse.generatedSamples[0].video.uri
output: GET that uri (…/files/{id}:download?alt=media) with the API key, redirects re-checked.
policy: done with raiMediaFilteredCount > 0 and no samples (the safety filter), or an error
        whose message says so.
lost create answer: the Gemini API documents GET of one operation by name only (no listing
        of a model's operations, no request id), so it cannot be looked up: the job ends
        `create_outcome_unknown` rather than paying twice (vendor.py).
429 RESOURCE_EXHAUSTED may carry google.rpc.RetryInfo.retryDelay ("30s"): honoured.
"""

from __future__ import annotations

from .base import PermanentError, RetryableError, VendorPolicyRejection
from .capabilities import AUDIO_ALWAYS, AUDIO_NONE, Capabilities, seconds_range
from .download import download
from .httpclient import parse_retry_after, short
from .vendor import Poll, PollingBackend, failed_job_error, required_param, sounds_like_policy

SOURCE = "googleapis/python-genai google/genai/models.py; Gemini API Veo docs (durations, aspect ratios)"
VEO3 = Capabilities(
    durations=(4.0, 6.0, 8.0), aspect_ratios=("16:9", "9:16"), audio=AUDIO_ALWAYS, negative_prompt=True, source=SOURCE
)
VEO2 = Capabilities(
    durations=seconds_range(5, 8), aspect_ratios=("16:9", "9:16"), audio=AUDIO_NONE, negative_prompt=True, source=SOURCE
)
RESOLUTIONS = ("720p", "1080p")


def _retry_delay(body) -> float | None:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                pass
    return None


class VeoBackend(PollingBackend):
    key = "google-veo"
    vendor = "Google Veo"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    # The file URI is on the API host itself; its download redirects to Google's storage.
    default_download_hosts = ("generativelanguage.googleapis.com", ".googleusercontent.com")
    key_env_names = ("GEMINI_API_KEY",)
    default_poll_interval_s = 10.0
    MODELS = {
        "veo-3.1-generate-preview": VEO3,
        "veo-3.1-fast-generate-preview": VEO3,
        "veo-3.0-generate-001": VEO3,
        "veo-3.0-fast-generate-001": VEO3,
        "veo-2.0-generate-001": VEO2,
    }

    def headers(self, api_key, config):
        return {"x-goog-api-key": api_key}

    def classify(self, response, body):
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        if response.status_code == 429:
            return RetryableError(
                f"HTTP 429 {error.get('status', '')}: {error.get('message', '')}",
                code="rate_limited",
                retry_after=_retry_delay(body) or parse_retry_after(response.headers),
            )
        if response.status_code == 400 and "API_KEY_INVALID" in short(body):
            return PermanentError(f"HTTP 400: {error.get('message', 'API key not valid')}", code="auth_failed")
        if response.status_code == 400 and sounds_like_policy(error.get("message")):
            return VendorPolicyRejection(f"create refused: {error.get('message')}")
        return None

    def create(self, client, request, config):
        model = required_param(config.params, "vendor_model")
        parameters = {
            "aspectRatio": request.aspect_ratio,
            "durationSeconds": int(self.seconds_sent(request, config)),
            "sampleCount": 1,
        }
        resolution = config.params.get("resolution")
        if resolution:
            if resolution not in RESOLUTIONS:
                raise PermanentError(f"Veo takes no resolution {resolution!r}", code="invalid_request")
            parameters["resolution"] = resolution
        if request.negative_prompt:
            parameters["negativePrompt"] = request.negative_prompt
        body = {"instances": [{"prompt": request.prompt}], "parameters": parameters}
        return str(client.json("POST", f"models/{model}:predictLongRunning", json=body)["name"])

    def check(self, client, job_id, config):
        if not job_id.startswith("models/") or ".." in job_id:
            raise PermanentError(f"not a Veo operation name: {job_id!r}", code="vendor_bad_response")
        operation = client.json("GET", job_id)
        if not operation.get("done"):
            return Poll(False)
        if operation.get("error"):
            message = f"operation failed: {short(operation['error'])}"
            raise failed_job_error(message, operation["error"].get("message"))
        answer = (operation.get("response") or {}).get("generateVideoResponse") or {}
        samples = answer.get("generatedSamples") or []
        if not samples:
            if answer.get("raiMediaFilteredCount"):
                reasons = "; ".join(answer.get("raiMediaFilteredReasons") or [])
                raise VendorPolicyRejection(f"filtered by the safety filter: {reasons}")
            raise PermanentError("operation done without a video", code="vendor_bad_response")
        return Poll(True, operation)

    def fetch(self, client, job_id, payload, dest, config, api_key):
        samples = payload["response"]["generateVideoResponse"]["generatedSamples"]
        uri = (samples[0].get("video") or {}).get("uri")
        if not uri:
            raise PermanentError("sample has no video uri", code="vendor_bad_response")
        return download(
            uri,
            dest,
            allowed_hosts=config.download_hosts,
            max_bytes=config.max_download_bytes,
            auth_headers={"x-goog-api-key": api_key},
            secrets=[api_key],
            vendor=self.vendor,
        )

    def metadata(self, payload):
        return {"vendor": self.vendor, "operation": payload.get("name")}
