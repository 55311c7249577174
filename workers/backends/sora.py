"""OpenAI Sora through the Videos API. RETIRED by its vendor on 2026-09-24.

OpenAI's Python SDK marks every `client.videos.*` method "The Sora API is scheduled to
permanently shut down on September 24, 2026." (openai/openai-python,
src/openai/resources/videos.py) and OpenAI's OpenAPI document marks `POST /videos`
deprecated. The adapter therefore refuses to call OpenAI's own endpoint
(`code="vendor_retired"`, before any key is read); it still runs against an endpoint an
operator points it at (SCREENTEST_OPENAI_SORA_BASE_URL: a compatible host, or the contract
fake), so the contract stays tested and history stays reproducible.

create: POST /v1/videos {"model", "prompt", "seconds": "4"|"8"|"12", "size": "WxH"}
        (openai-python src/openai/types/video_create_params.py, video_seconds.py, video_size.py)
lost create answer: the newest videos (GET /v1/videos?order=desc) matched on the exact request
        and creation time (`find_created`).
poll:   GET /v1/videos/{id}, waiting as long as the `openai-poll-after-ms` header says
output: GET /v1/videos/{id}/content?variant=video (bytes, with the API key; no URL is returned)
policy: 400 with error.code moderation_blocked (or similar) at create, or status "failed"
        with such an error code.
"""

from __future__ import annotations

from pathlib import Path

from .base import PermanentError, VendorPolicyRejection
from .capabilities import AUDIO_ALWAYS, Capabilities, Retirement
from .download import download
from .vendor import (
    LIST_LIMIT,
    Poll,
    PollingBackend,
    as_number_text,
    one_match,
    required_param,
    sounds_like_policy,
    unix_time,
)

POLICY_CODES = {"moderation_blocked", "content_policy_violation", "content_filter", "safety_violation"}
SDK_SOURCE = "openai/openai-python src/openai/types/video_create_params.py (VideoSeconds, VideoSize)"
RETIREMENT = Retirement(
    since="2026-09-24",
    source="openai/openai-python src/openai/resources/videos.py: 'The Sora API is scheduled to permanently "
    "shut down on September 24, 2026.'; OpenAI's OpenAPI document marks POST /videos deprecated",
    note="No host's docs dated after 2026-09-24 were found that still serve Sora 2.",
)
LANDSCAPE_PORTRAIT = frozenset({"1280x720", "720x1280"})
TALL_WIDE = frozenset({"1792x1024", "1024x1792"})


def _sora(sizes: frozenset[str]) -> Capabilities:
    return Capabilities(
        durations=(4.0, 8.0, 12.0),
        aspect_ratios=("16:9", "9:16"),
        sizes=sizes,
        audio=AUDIO_ALWAYS,
        retired=RETIREMENT,
        source=SDK_SOURCE + "; sora-2 renders 720p sizes only (OpenAI video generation guide)",
    )


def _error(body) -> dict:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


class SoraBackend(PollingBackend):
    key = "openai-sora"
    vendor = "OpenAI Sora"
    default_base_url = "https://api.openai.com/v1"
    key_env_names = ("OPENAI_API_KEY",)
    default_poll_interval_s = 1.0
    retired = RETIREMENT
    MODELS = {
        "sora-2": _sora(LANDSCAPE_PORTRAIT),
        "sora-2-2025-10-06": _sora(LANDSCAPE_PORTRAIT),
        "sora-2-2025-12-08": _sora(LANDSCAPE_PORTRAIT),
        "sora-2-pro": _sora(LANDSCAPE_PORTRAIT | TALL_WIDE),
        "sora-2-pro-2025-10-06": _sora(LANDSCAPE_PORTRAIT | TALL_WIDE),
    }

    def before_start(self, config):
        if not config.base_url_from_operator:
            raise PermanentError(
                f"{self.vendor} was shut down by OpenAI on {RETIREMENT.since} ({RETIREMENT.source})",
                code="vendor_retired",
            )

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

    def create_body(self, request, config) -> dict:
        return {
            "model": required_param(config.params, "vendor_model"),
            "prompt": request.prompt,
            "seconds": as_number_text(self.seconds_sent(request, config)),  # a string, per the API
            "size": f"{request.width}x{request.height}",
        }

    def create(self, client, request, config):
        video = client.json("POST", "videos", json=self.create_body(request, config))
        return str(video["id"])

    def find_created(self, client, request, config, since):
        """The account's newest videos (GET /videos?order=desc, openai-python
        src/openai/resources/videos.py `list`): one created at or after `since` with exactly our
        model, prompt, seconds and size. Two such (the same prompt sent twice at once) cannot be
        told apart: outcome unknown."""
        wanted = self.create_body(request, config)
        listing = client.json("GET", f"videos?order=desc&limit={LIST_LIMIT}")
        videos = listing.get("data") if isinstance(listing, dict) else None
        matches = [
            str(video["id"])
            for video in videos or []
            if isinstance(video, dict)
            and video.get("id")
            and unix_time(video.get("created_at")) >= since
            and all(str(video.get(name)) == str(value) for name, value in wanted.items())
        ]
        return one_match(self.vendor, matches)

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
