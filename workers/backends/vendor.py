"""The skeleton every HTTP vendor adapter shares: create -> report the id -> poll with a
deadline -> download -> result with cost. A vendor file subclasses `PollingBackend` and
fills in `create`, `check` and (when the output is not a plain URL) `fetch`.

Configuration (catalog `backend_params`, environment wins for endpoints so an operator can
repoint a whole vendor):
- `base_url`: env `SCREENTEST_<KEY>_BASE_URL`, else params["base_url"], else the vendor default.
- `download_hosts`: env `SCREENTEST_<KEY>_DOWNLOAD_HOSTS` (comma list), else params, else the
  vendor default. The API host itself is always allowed.
- `api_key_env`: which environment variable holds the key (never the key itself).
- `poll_interval_s`, `poll_deadline_s`, `max_download_bytes`, `price_per_second_usd`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .base import (
    BackendError,
    GenerationRequest,
    GenerationResult,
    GenerationTimeout,
    PermanentError,
    SubmittedCallback,
    VendorPolicyRejection,
)
from .download import DEFAULT_MAX_BYTES, download
from .httpclient import VendorClient
from .secrets import require_secret

MAX_POLLS = 10_000


@dataclass(frozen=True)
class Poll:
    """One look at the vendor job: `done` with the vendor's final payload, or wait `wait_s`."""

    done: bool
    payload: Any = None
    wait_s: float | None = None


@dataclass(frozen=True)
class VendorConfig:
    base_url: str
    download_hosts: tuple[str, ...]
    api_key_env: str
    poll_interval_s: float
    poll_deadline_s: float
    max_download_bytes: int
    params: Mapping[str, Any]


def env_key(backend_key: str, suffix: str) -> str:
    return f"SCREENTEST_{backend_key.upper().replace('-', '_')}_{suffix}"


def load_config(backend, params: Mapping[str, Any]) -> VendorConfig:
    key = backend.key
    base_url = os.environ.get(env_key(key, "BASE_URL")) or params.get("base_url") or backend.default_base_url
    hosts_env = os.environ.get(env_key(key, "DOWNLOAD_HOSTS"))
    hosts = (
        [h.strip() for h in hosts_env.split(",") if h.strip()]
        if hosts_env
        else list(params.get("download_hosts") or backend.default_download_hosts)
    )
    hosts.append(urlsplit(base_url).hostname or "")
    return VendorConfig(
        base_url=base_url,
        download_hosts=tuple(h for h in hosts if h),
        api_key_env=params.get("api_key_env") or backend.default_api_key_env,
        poll_interval_s=float(params.get("poll_interval_s", backend.default_poll_interval_s)),
        poll_deadline_s=float(params.get("poll_deadline_s", 600)),
        max_download_bytes=int(params.get("max_download_bytes", DEFAULT_MAX_BYTES)),
        params=params,
    )


def pick_duration(requested: float, allowed) -> float:
    """The smallest allowed duration that covers the request, else the longest allowed."""
    options = sorted(float(d) for d in allowed)
    if not options:
        raise PermanentError("catalog params list no durations for this model", code="invalid_request")
    for option in options:
        if option >= requested - 1e-6:
            return option
    return options[-1]


def as_number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def required_param(params: Mapping[str, Any], name: str) -> Any:
    if name not in params:
        raise PermanentError(f"catalog params miss {name!r} for this model", code="invalid_request")
    return params[name]


class PollingBackend:
    key = "vendor"
    vendor = "Vendor"
    default_base_url = ""
    default_download_hosts: tuple[str, ...] = ()
    default_api_key_env = ""
    default_poll_interval_s = 5.0

    # --- what a vendor file implements ---------------------------------------------------
    def headers(self, api_key: str, config: VendorConfig) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def classify(self, response, body):  # content-policy rejections at create time, etc.
        return None

    def create(self, client: VendorClient, request: GenerationRequest, config: VendorConfig) -> str:
        raise NotImplementedError

    def check(self, client: VendorClient, job_id: str, config: VendorConfig) -> Poll:
        raise NotImplementedError

    def output_url(self, payload: Any) -> str:
        raise NotImplementedError

    def fetch(
        self, client: VendorClient, job_id: str, payload: Any, dest: Path, config: VendorConfig, api_key: str
    ) -> Path:
        return download(
            self.output_url(payload),
            dest,
            allowed_hosts=config.download_hosts,
            max_bytes=config.max_download_bytes,
            secrets=[api_key, *self.extra_secrets],
            vendor=self.vendor,
        )

    def seconds_sent(self, request: GenerationRequest, config: VendorConfig) -> float:
        return float(request.duration_s)

    def cost_usd(self, request: GenerationRequest, payload: Any, config: VendorConfig) -> float | None:
        price = config.params.get("price_per_second_usd")
        if price is None:
            return None
        return round(float(price) * self.seconds_sent(request, config), 4)

    def metadata(self, payload: Any) -> dict[str, Any]:
        return {"vendor": self.vendor}

    # --- the shared flow -----------------------------------------------------------------
    def generate(
        self,
        request: GenerationRequest,
        *,
        workdir: Path,
        resume_vendor_job_id: str | None,
        on_submitted: SubmittedCallback,
    ) -> GenerationResult:
        config = load_config(self, request.params or {})
        api_key = require_secret(config.api_key_env)
        self.extra_secrets: list[str] = []
        headers = self.headers(api_key, config)  # may add to extra_secrets (Kling's secret key, JWT)
        with VendorClient(
            self.vendor,
            config.base_url,
            headers=headers,
            secrets=[api_key, *self.extra_secrets],
            classify=self.classify,
        ) as client:
            if resume_vendor_job_id:
                job_id = resume_vendor_job_id
            else:
                job_id = self.create(client, request, config)
                on_submitted(job_id)
            payload = self.wait(client, job_id, config)
            dest = Path(workdir) / "vendor-output.mp4"
            self.fetch(client, job_id, payload, dest, config, api_key)
        return GenerationResult(
            video_path=dest,
            vendor_job_id=job_id,
            cost_usd=self.cost_usd(request, payload, config),
            vendor_metadata=self.metadata(payload),
        )

    def wait(self, client: VendorClient, job_id: str, config: VendorConfig) -> Any:
        deadline = time.monotonic() + config.poll_deadline_s
        for _ in range(MAX_POLLS):
            poll = self.check(client, job_id, config)
            if poll.done:
                return poll.payload
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(max(poll.wait_s if poll.wait_s is not None else config.poll_interval_s, 0.01), left))
        raise GenerationTimeout(f"{self.vendor}: job {job_id} not finished after {config.poll_deadline_s:g} s")


POLICY_WORDS = (
    "moderation",
    "content policy",
    "policy violation",
    "safety",
    "unsafe",
    "sensitive",
    "inappropriate",
    "risk control",
    "prohibited",
    "flagged",
)


def sounds_like_policy(text: Any) -> bool:
    """For vendors whose failures carry only free text (Luma legacy, Kling's task_status_msg):
    the words their policy failures use. Vendors with codes are matched on codes instead."""
    lowered = str(text or "").lower()
    return any(word in lowered for word in POLICY_WORDS)


def failed_job_error(message: str, reason: Any) -> BackendError:
    """The error for a vendor job that ended in failure: a policy refusal when its free-text
    reason reads like one (final, shown as such), otherwise a permanent failure."""
    if sounds_like_policy(reason):
        return VendorPolicyRejection(message)
    return PermanentError(message, code="vendor_failed")


INPUT_FIELDS = ("prompt", "negative_prompt", "duration", "aspect_ratio", "seed")


def model_input(request: GenerationRequest, config: VendorConfig, seconds: float) -> dict[str, Any]:
    """The input object of a model hosted on a generic platform (fal, Replicate), from catalog
    data alone: `input_fields` says which of our fields the model takes (and under which name,
    as {"ours": "theirs"} or a list of names kept as is), `duration_format` how it wants the
    duration ("int", "str", "str_s" for "5s"), `extra_input` fixed extras (resolution, ...)."""
    params = config.params
    fields = params.get("input_fields", ["prompt", "duration", "aspect_ratio"])
    names = fields if isinstance(fields, dict) else {name: name for name in fields}
    unknown = set(names) - set(INPUT_FIELDS)
    if unknown:
        raise PermanentError(f"catalog input_fields name unknown fields {sorted(unknown)}", code="invalid_request")
    duration_format = params.get("duration_format", "int")
    duration: Any = {
        "int": int(seconds),
        "str": as_number_text(seconds),
        "str_s": f"{as_number_text(seconds)}s",
        "float": float(seconds),
    }.get(duration_format)
    if duration is None:
        raise PermanentError(f"unknown duration_format {duration_format!r}", code="invalid_request")
    ours = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or None,
        "duration": duration,
        "aspect_ratio": request.aspect_ratio,
        "seed": int(request.seed),
    }
    body = {theirs: ours[name] for name, theirs in names.items() if ours[name] is not None}
    body.update(params.get("extra_input") or {})
    return body


def dig(payload: Any, dotted: str) -> Any:
    """payload["video"]["url"] for "video.url"; integers index lists ("output.0")."""
    value = payload
    for part in dotted.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value
