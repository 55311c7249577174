"""Luma Dream Machine, the generations API (the legacy `dream-machine/v1` surface; the newer
Agents API is a different contract and would be a separate file).

create: POST /generations/video {"model", "prompt", "aspect_ratio", "duration": "5s", "resolution"}
        (lumalabs/lumaai-python src/lumaai/types/generations/video_create_params.py: no seed,
        no negative prompt, no sound)
poll:   GET /generations/{id}: queued / dreaming -> completed (assets.video) | failed (failure_reason)
        (src/lumaai/types/generation.py)
output: assets.video, served from storage.cdn-luma.com (Luma's API docs,
        https://docs.lumalabs.ai/docs/video-generation).
lost create answer: the newest generations (GET /generations) matched on the echoed request
        and creation time (`find_created`).
policy: failure_reason text (no codes on this surface), or a 400 at create that says so.
"""

from __future__ import annotations

from .base import PermanentError, VendorPolicyRejection
from .capabilities import AUDIO_NONE, Capabilities
from .httpclient import short
from .vendor import (
    LIST_LIMIT,
    Poll,
    PollingBackend,
    as_number_text,
    failed_job_error,
    one_match,
    required_param,
    sounds_like_policy,
    unix_time,
)

RAY = Capabilities(
    durations=(5.0, 9.0),
    aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"),
    audio=AUDIO_NONE,
    source="lumalabs/lumaai-python src/lumaai/types/generations/video_create_params.py",
)
RESOLUTIONS = ("540p", "720p", "1080p", "4k")


class LumaBackend(PollingBackend):
    key = "luma"
    vendor = "Luma Dream Machine"
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"
    default_download_hosts = ("storage.cdn-luma.com",)
    key_env_names = ("LUMAAI_API_KEY",)
    default_poll_interval_s = 3.0
    MODELS = {"ray-2": RAY, "ray-flash-2": RAY, "ray-1-6": RAY}

    def classify(self, response, body):
        if response.status_code in (400, 422) and sounds_like_policy(short(body)):
            return VendorPolicyRejection(f"create refused: {short(body)}")
        return None

    def create(self, client, request, config):
        return str(client.json("POST", "generations/video", json=self.create_body(request, config))["id"])

    def find_created(self, client, request, config, since):
        """The newest generations (GET /generations?limit&offset, src/lumaai/resources/generations/
        generations.py `list`): one created at or after `since` whose echoed `request` holds
        exactly our model, prompt, aspect ratio, duration and resolution. Two such: unknown."""
        wanted = self.create_body(request, config)
        listing = client.json("GET", f"generations?limit={LIST_LIMIT}&offset=0")
        generations = listing.get("generations") if isinstance(listing, dict) else None
        matches = []
        for generation in generations or []:
            if not isinstance(generation, dict) or not generation.get("id"):
                continue
            echoed = generation.get("request")
            echoed = echoed if isinstance(echoed, dict) else {}
            if unix_time(generation.get("created_at")) >= since and all(
                echoed.get(name) == value for name, value in wanted.items()
            ):
                matches.append(str(generation["id"]))
        return one_match(self.vendor, matches)

    def create_body(self, request, config) -> dict:
        body = {
            "model": required_param(config.params, "vendor_model"),
            "prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "duration": f"{as_number_text(self.seconds_sent(request, config))}s",
        }
        resolution = config.params.get("resolution")
        if resolution:
            if resolution not in RESOLUTIONS:
                raise PermanentError(f"Luma takes no resolution {resolution!r}", code="invalid_request")
            body["resolution"] = resolution
        return body

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
