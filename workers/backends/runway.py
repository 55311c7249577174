"""Runway's API (text_to_video).

Models and their fields: runwayml/sdk-python src/runwayml/types/text_to_video_create_params.py
(a union by `model`; only the fields a model lists are sent: gen4.5 takes `seed`, the veo3.x
models take `negativePrompt` and (veo3.1*) an `audio` switch, none of them takes both).
create: POST /v1/text_to_video, camelCase JSON {"model", "promptText", "ratio": "1280:720",
        "duration": int, ...}; every request carries `X-Runway-Version`.
poll:   GET /v1/tasks/{id}: PENDING / THROTTLED (over our concurrency: queued by Runway, not
        an error) / RUNNING -> SUCCEEDED (output: [url]) | FAILED | CANCELLED
        (src/runwayml/types/task_retrieve_response.py).
failures (https://docs.dev.runwayml.com/errors/task-failures/):
        SAFETY.* and INPUT_PREPROCESSING.SAFETY.* are moderation refusals ("You should not retry
        these generations"); INTERNAL.BAD_OUTPUT.* may be retried, which means a *new* task
        (VendorJobDiscarded): the failed task stays failed however often it is polled.
lost create answer: Runway documents no idempotency key and no listing of tasks (only
        GET/DELETE /v1/tasks/{id}), so a create whose answer was lost cannot be looked up: the
        job ends `create_outcome_unknown` rather than paying twice (vendor.py).
cost:   credits per second from the catalog (1 credit = $0.01).
"""

from __future__ import annotations

from .base import PermanentError, VendorJobDiscarded, VendorPolicyRejection
from .capabilities import AUDIO_NONE, AUDIO_OPTIONAL, AUDIO_UNKNOWN, Capabilities, seconds_range
from .vendor import Poll, PollingBackend, required_param

API_VERSION = "2024-11-06"
WAITING = {"PENDING", "THROTTLED", "RUNNING"}
POLICY_PREFIXES = ("SAFETY.", "INPUT_PREPROCESSING.SAFETY.")
SDK_SOURCE = "runwayml/sdk-python src/runwayml/types/text_to_video_create_params.py"
VEO_SIZES = frozenset({"1280x720", "720x1280", "1080x1920", "1920x1080"})


def _model(durations, sizes, *, audio=AUDIO_NONE, seed=False, negative_prompt=False) -> Capabilities:
    return Capabilities(
        durations=tuple(float(d) for d in durations),
        aspect_ratios=("16:9", "9:16"),
        sizes=frozenset(sizes),
        audio=audio,
        seed=seed,
        negative_prompt=negative_prompt,
        source=SDK_SOURCE,
    )


class RunwayBackend(PollingBackend):
    key = "runway"
    vendor = "Runway"
    default_base_url = "https://api.dev.runwayml.com"
    # Runway's output URLs (https://docs.dev.runwayml.com/assets/outputs).
    default_download_hosts = ("dnznrvs05pmza.cloudfront.net",)
    key_env_names = ("RUNWAYML_API_SECRET",)
    default_poll_interval_s = 6.0
    MODELS = {
        "gen4.5": _model(seconds_range(2, 10), {"1280x720", "720x1280"}, seed=True),
        "veo3.1": _model((4, 6, 8), VEO_SIZES, audio=AUDIO_OPTIONAL, negative_prompt=True),
        "veo3.1_fast": _model((4, 6, 8), VEO_SIZES, audio=AUDIO_OPTIONAL, negative_prompt=True),
        # veo3: duration must be 8; no audio switch, and Runway's schema does not say whether it has sound.
        "veo3": _model((8,), VEO_SIZES, audio=AUDIO_UNKNOWN, negative_prompt=True),
        "gemini_omni_flash": _model(seconds_range(3, 10), {"1280x720", "720x1280"}, audio=AUDIO_UNKNOWN),
    }

    def headers(self, api_key, config):
        return {
            "Authorization": f"Bearer {api_key}",
            "X-Runway-Version": str(config.params.get("api_version", API_VERSION)),
        }

    def create(self, client, request, config):
        spec = self.model_spec(config)
        body = {
            "model": required_param(config.params, "vendor_model"),
            "promptText": request.prompt,
            "ratio": f"{request.width}:{request.height}",
            "duration": int(self.seconds_sent(request, config)),
        }
        if spec.seed:
            body["seed"] = int(request.seed) % 4294967296
        if spec.negative_prompt and request.negative_prompt:
            body["negativePrompt"] = request.negative_prompt
        if spec.audio == AUDIO_OPTIONAL and config.params.get("generate_audio") is not None:
            body["audio"] = bool(config.params["generate_audio"])
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
        if code.startswith(POLICY_PREFIXES):
            raise VendorPolicyRejection(message)
        if code.startswith("INTERNAL.BAD_OUTPUT"):
            raise VendorJobDiscarded(message)
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
