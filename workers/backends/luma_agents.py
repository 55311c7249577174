"""Luma's Agents API: the only surface that serves Luma's current video model, Ray 3.2.

A different contract from the legacy Dream Machine API (`luma.py`): another host, another key,
one endpoint for every media type, the video options nested under `video`.

Sources (read 2026-11-30):
- SDK: lumalabs/luma-agents-python at commit 38837df163df7d69cdb952aeea988e890dd57675
  (release 0.3.0, "add video generation/editing, ray-3.2"), generated from Luma's OpenAPI
  document (.stats.yml: 2 endpoints):
  src/luma_agents/_client.py (base URL https://agents.lumalabs.ai/v1, `Authorization: Bearer`,
  key variable LUMA_AGENTS_API_KEY), resources/generations.py (POST /generations,
  GET /generations/{generation_id}), types/generation_create_params.py, video_options_param.py,
  video_duration.py ("5s" | "10s"), video_resolution.py (540p | 720p | 1080p), model.py,
  generation.py (state queued | processing | completed | failed; failure_code; output),
  generation_output.py ({type, url}: "Presigned URL (1hr expiry)"), generation_failure_code.py.
- Luma's docs: https://docs.agents.lumalabs.ai/guides/videos/generation/ (request shape),
  https://docs.agents.lumalabs.ai/guides/error-handling/ (statuses and failure codes),
  https://docs.agents.lumalabs.ai/guides/model/ (ray-3.2: video, video_edit, video_reframe).
- Aspect ratios for ray-3.2 video: the SDK's enum has twelve values and says "the server
  validates the final model-specific set"; the pages of Luma's read here do not list that set.
  The six declared below are the set a third-party copy of Luma's video generation guide
  ("Sourced from https://docs.agents.lumalabs.ai/guides/videos/generation/ (fetched
  2026-06-11)") lists, and what Luma's partners publish (replicate.com/luma/ray-3.2,
  docs.comfy.org built-in-nodes/LumaRay32TextToVideoNode, docs.gmicloud.ai
  luma-ray-3-2-generate); fal's page passes the SDK's twelve through.

create: POST /generations {"model": "ray-3.2", "type": "video", "prompt", "aspect_ratio",
        "video": {"duration": "5s" | "10s", "resolution"}} -> 201 Generation.
poll:   GET /generations/{id}: queued / processing -> completed (output[]: {type: "video", url})
        | failed (failure_code, failure_reason).
errors: synchronous ones are HTTP statuses with a `detail` text: 400 invalid parameters,
        401 bad key, 402 insufficient balance, 403 suspended / deactivated client (account
        problems, not retried), 413 / 422 input or parameter combination rejected, 429 rate
        limited (Retry-After), 502 / 503 upstream unavailable (retried). Failed generations
        carry a `failure_code`: content_moderated is a refusal; generation_failed,
        output_not_found and rate_limited "retry same request", which means a *new* generation
        (the failed one stays failed: VendorJobDiscarded); budget_exhausted is an account
        problem; the input codes (image_too_large, unsupported_format, corrupt_input,
        invalid_request) are final.
no idempotency: the SDK sends no idempotency header (`_idempotency_header` is None) and the
        API has no list endpoint, so a create whose answer is lost cannot be found again; the
        retry creates a new generation (documented in docs/backends.md).
downloads: the output is a presigned URL whose host Luma does not document. No default host is
        assumed: until an operator names the hosts (SCREENTEST_LUMA_AGENTS_DOWNLOAD_HOSTS) the
        adapter refuses before any request, rather than paying for a clip it would then refuse
        to fetch (issue 13, item 2).
sound:  the Agents API has no audio field and Luma's pages do not say whether Ray 3.2 makes
        sound: declared unknown, the media stage measures it.
price:  Luma's pricing page (https://docs.agents.lumalabs.ai/guides/pricing/) prices video per
        clip by type, resolution, dynamic range and duration; its video table could not be
        read. Third-party copies give 720p SDR $0.30 for 5 s and $0.90 for 10 s: not a price
        per second, so `price_per_second_usd` cannot express it and no cost is recorded.
"""

from __future__ import annotations

import os

from .base import PermanentError, VendorJobDiscarded, VendorPolicyRejection
from .capabilities import AUDIO_UNKNOWN, Capabilities
from .httpclient import short
from .vendor import Poll, PollingBackend, as_number_text, env_key, required_param, sounds_like_policy

SDK_SOURCE = (
    "lumalabs/luma-agents-python@38837df163df7d69cdb952aeea988e890dd57675 "
    "src/luma_agents/types/video_options_param.py, video_duration.py; aspect ratios as every "
    "host of ray-3.2 publishes them (replicate.com/luma/ray-3.2)"
)
RAY_3_2 = Capabilities(
    durations=(5.0, 10.0),
    aspect_ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"),
    audio=AUDIO_UNKNOWN,
    source=SDK_SOURCE,
)
RESOLUTIONS = ("540p", "720p", "1080p")
WAITING = {"queued", "processing"}
# failure_code -> what it means for us (https://docs.agents.lumalabs.ai/guides/error-handling/)
NEW_GENERATION_CURES = {"generation_failed", "output_not_found", "rate_limited"}
ACCOUNT_FAILURES = {"budget_exhausted"}
ACCOUNT_STATUSES = {402, 403}


def _detail(body) -> str:
    if isinstance(body, dict) and "detail" in body:
        return short(body["detail"])
    return short(body)


class LumaAgentsBackend(PollingBackend):
    key = "luma-agents"
    vendor = "Luma Agents API"
    default_base_url = "https://agents.lumalabs.ai/v1"
    # Presigned output URLs on a host Luma does not document: operators name it (see before_start).
    default_download_hosts: tuple[str, ...] = ()
    key_env_names = ("LUMA_AGENTS_API_KEY",)
    required_setting_envs = (env_key("luma-agents", "DOWNLOAD_HOSTS"),)
    default_poll_interval_s = 5.0
    MODELS = {"ray-3.2": RAY_3_2}

    def before_start(self, config):
        (hosts_env,) = self.required_setting_envs
        if not os.environ.get(hosts_env, "").strip():
            raise PermanentError(
                f"{self.vendor}: Luma does not document the host of its presigned output URLs; set "
                f"{hosts_env} before enabling a Ray 3.2 model (no request was sent)",
                code="download_hosts_unset",
            )

    def classify(self, response, body):
        # Luma documents moderation as a failure_code when polling; a 400/422 whose detail reads
        # like a policy refusal is still treated as one rather than as our bad request.
        detail = _detail(body)
        if response.status_code in (400, 422) and sounds_like_policy(detail):
            return VendorPolicyRejection(f"create refused: {detail}")
        if response.status_code in ACCOUNT_STATUSES:
            return PermanentError(f"HTTP {response.status_code}: {detail}", code="account_problem")
        return None

    def create(self, client, request, config):
        resolution = config.params.get("resolution", "720p")
        if resolution not in RESOLUTIONS:
            raise PermanentError(f"Ray 3.2 takes no resolution {resolution!r}", code="invalid_request")
        body = {
            "model": required_param(config.params, "vendor_model"),
            "type": "video",
            "prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "video": {
                "duration": f"{as_number_text(self.seconds_sent(request, config))}s",
                "resolution": resolution,
            },
        }
        return str(client.json("POST", "generations", json=body)["id"])

    def check(self, client, job_id, config):
        generation = client.json("GET", f"generations/{job_id}")
        state = generation.get("state")
        if state == "completed":
            return Poll(True, generation)
        if state in WAITING:
            return Poll(False)
        if state != "failed":  # the SDK knows four states; anything else is not Luma's contract
            raise PermanentError(f"generation {job_id} in unknown state {state!r}", code="vendor_bad_response")
        code = generation.get("failure_code") or ""
        message = f"generation {job_id} {state}: {code} {generation.get('failure_reason') or ''}".strip()
        if code == "content_moderated":
            raise VendorPolicyRejection(message)
        if code in NEW_GENERATION_CURES:
            raise VendorJobDiscarded(message, code="vendor_job_discarded")
        if code in ACCOUNT_FAILURES:
            raise PermanentError(message, code="account_problem")
        raise PermanentError(message, code="vendor_failed")

    def output_url(self, payload):
        for output in payload.get("output") or []:
            if isinstance(output, dict) and output.get("type") == "video" and output.get("url"):
                return output["url"]
        raise PermanentError("Luma reported completion without a video output", code="vendor_bad_response")

    def metadata(self, payload):
        return {
            "vendor": self.vendor,
            "model": payload.get("model"),
            "generation_id": payload.get("id"),
            "created_at": payload.get("created_at"),
        }
