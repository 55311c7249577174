"""The skeleton every HTTP vendor adapter shares: create -> report the id -> poll with a
deadline -> download -> result with cost. A vendor file subclasses `PollingBackend` and
fills in `create`, `check` and (when the output is not a plain URL) `fetch`.

Where requests and keys go is never catalog data (whoever may edit a model must not be able to
send a server secret to a host of their choosing):
- base URL: env `SCREENTEST_<KEY>_BASE_URL` (set by an operator), else the vendor's own.
- download hosts: env `SCREENTEST_<KEY>_DOWNLOAD_HOSTS` (comma list), else the hosts the
  vendor documents (docs/backends.md). The API host itself is always allowed.
- keys: the adapter's fixed `key_env_names` (each may be `<NAME>_FILE`).
Catalog params that try (`base_url`, `api_key_env`, `secret_key_env`, `download_hosts`) make
the job fail before any request.
From the catalog: `poll_interval_s`, `poll_deadline_s`, `max_download_bytes`,
`price_per_second_usd`, `lost_create_answer`, and the model's own settings.

A create whose answer is lost (the request went out, the connection broke before the answer)
may have made a paid job. Creating again would pay twice, so before any new create:
- a "create sent" marker is reported through `on_submitted` just before the request goes
  out (and cleared when the vendor answers with a refusal), so even an attempt that dies
  mid-create leaves a trace the next attempt sees;
- after a lost answer, or on resuming from such a marker, the adapter's `find_created` looks
  for the job the vendor made (Kling: by our `external_task_id`; Sora, Luma, Replicate: in
  the account's list of recent jobs, by the exact request and creation time) and adopts it;
  when it finds none, the create did not take and a new one is safe;
- an adapter whose vendor offers no way to look (`find_created` returns CANNOT_LOOK: Runway,
  fal, Veo) fails the job as `create_outcome_unknown` instead of creating again, unless the
  catalog entry says `lost_create_answer: "recreate"` (the operator accepts paying twice).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .base import (
    AnswerLost,
    BackendError,
    CreateOutcomeUnknown,
    GenerationRequest,
    GenerationResult,
    GenerationTimeout,
    PermanentError,
    SubmittedCallback,
    VendorJobDiscarded,
    VendorPolicyRejection,
)
from .capabilities import FORBIDDEN_PARAMS, Capabilities, UnsupportedModel
from .download import DEFAULT_MAX_BYTES, download
from .httpclient import VendorClient
from .secrets import require_secret

MAX_POLLS = 10_000
# What `on_submitted` records just before a create goes out: "create-sent@<unix time>".
CREATE_SENT_PREFIX = "create-sent@"
# A vendor's clock and ours may disagree: a job created this long before our send still counts.
CLOCK_SKEW_S = 120.0
LOST_CREATE_POLICIES = ("adopt_or_stop", "recreate")
# `find_created`'s answer when the vendor offers no way to look.
CANNOT_LOOK = object()
# How many of the account's newest jobs `find_created` reads: a lost answer is looked for
# within seconds of the send (or at the next attempt, minutes later), not hours.
LIST_LIMIT = 50


def unix_time(value: Any) -> float:
    """An ISO 8601 time as vendors list it ("2026-11-30T19:00:00.123Z") as unix time; a number
    is taken as unix time already; 0 when missing or unreadable (never matches a recent send)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def one_match(vendor: str, matches: list[str]) -> str | None:
    """The single vendor job that matches, None for none; two or more cannot be told apart."""
    if len(set(matches)) > 1:
        raise CreateOutcomeUnknown(
            f"{vendor}: a create got no answer and {len(set(matches))} jobs match it exactly "
            f"({', '.join(sorted(set(matches)))}); not guessing which is ours, and not creating another"
        )
    return matches[0] if matches else None


def create_sent_marker(sent_at: float) -> str:
    return f"{CREATE_SENT_PREFIX}{sent_at:.3f}"


def create_sent_at(vendor_job_id: str | None) -> float | None:
    """When the create this marker stands for was sent, or None for a real vendor job id."""
    if not vendor_job_id or not vendor_job_id.startswith(CREATE_SENT_PREFIX):
        return None
    try:
        return float(vendor_job_id[len(CREATE_SENT_PREFIX) :])
    except ValueError:
        return 0.0  # a damaged marker: look as far back as the vendor lists


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
    base_url_from_operator: bool
    poll_interval_s: float
    poll_deadline_s: float
    max_download_bytes: int
    params: Mapping[str, Any]


def env_key(backend_key: str, suffix: str) -> str:
    return f"SCREENTEST_{backend_key.upper().replace('-', '_')}_{suffix}"


def load_config(backend, params: Mapping[str, Any]) -> VendorConfig:
    """The adapter's settings; endpoint and hosts from the environment or the adapter only
    (catalog params naming them are refused in `generate`, ignored here)."""
    key = backend.key
    operator_url = os.environ.get(env_key(key, "BASE_URL"), "").strip()
    base_url = operator_url or backend.default_base_url
    hosts_env = os.environ.get(env_key(key, "DOWNLOAD_HOSTS"))
    hosts = (
        [h.strip() for h in hosts_env.split(",") if h.strip()] if hosts_env else list(backend.default_download_hosts)
    )
    hosts.append(urlsplit(base_url).hostname or "")
    return VendorConfig(
        base_url=base_url,
        download_hosts=tuple(h for h in hosts if h),
        base_url_from_operator=bool(operator_url),
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


def refuse_forbidden_params(params: Mapping[str, Any], vendor: str) -> None:
    named = [name for name in FORBIDDEN_PARAMS if name in params]
    if named:
        raise PermanentError(
            f"{vendor}: catalog params may not set {', '.join(named)}; operators set "
            "SCREENTEST_<BACKEND>_BASE_URL / _DOWNLOAD_HOSTS in the environment",
            code="forbidden_param",
        )


def required_param(params: Mapping[str, Any], name: str) -> Any:
    if name not in params:
        raise PermanentError(f"catalog params miss {name!r} for this model", code="invalid_request")
    return params[name]


class PollingBackend:
    key = "vendor"
    vendor = "Vendor"
    default_base_url = ""
    default_download_hosts: tuple[str, ...] = ()
    # The environment variables the keys come from, fixed per adapter (first: the API key).
    key_env_names: tuple[str, ...] = ()
    # Operator settings (not secrets) the adapter cannot work without: `manage.py backends`
    # reports the adapter as not configured while one is empty.
    required_setting_envs: tuple[str, ...] = ()
    default_poll_interval_s = 5.0
    # vendor model id -> what it accepts (direct adapters); generic hosts override `capabilities`.
    MODELS: Mapping[str, Capabilities] = {}

    # The first key's name as a plain string, for callers that still read one name only.
    default_api_key_env = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.default_api_key_env = cls.key_env_names[0] if cls.key_env_names else ""

    @classmethod
    def capabilities(cls, params: Mapping[str, Any]) -> Capabilities:
        model = params.get("vendor_model")
        if not isinstance(model, str) or model not in cls.MODELS:
            raise UnsupportedModel(
                f"{cls.vendor} has no model {model!r} this adapter knows (known: {', '.join(sorted(cls.MODELS))})"
            )
        return cls.MODELS[model]

    def model_spec(self, config: VendorConfig) -> Capabilities:
        try:
            return self.capabilities(config.params)
        except UnsupportedModel as exc:
            raise PermanentError(str(exc), code="invalid_request") from None

    # --- what a vendor file implements ---------------------------------------------------
    def headers(self, api_key: str, config: VendorConfig) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def classify(self, response, body):  # content-policy rejections at create time, etc.
        return None

    def create(self, client: VendorClient, request: GenerationRequest, config: VendorConfig) -> str:
        raise NotImplementedError

    def check(self, client: VendorClient, job_id: str, config: VendorConfig) -> Poll:
        raise NotImplementedError

    def find_created(self, client: VendorClient, request: GenerationRequest, config: VendorConfig, since: float):
        """The id of the job an earlier create of this request made at or after `since` (unix
        time), None when the vendor shows there is none, or CANNOT_LOOK when it offers no way
        to tell. More than one candidate is not a match: raise CreateOutcomeUnknown."""
        return CANNOT_LOOK

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

    def allowed_durations(self, config: VendorConfig) -> tuple[float, ...]:
        """The catalog's offered durations the model really takes (all it takes by default)."""
        takes = self.model_spec(config).durations
        offered = [float(d) for d in config.params.get("durations") or takes]
        usable = tuple(d for d in offered if d in takes)
        if not usable:
            raise PermanentError(
                f"{self.vendor}: none of the catalog's durations {offered} is one the model takes {list(takes)}",
                code="invalid_request",
            )
        return usable

    def seconds_sent(self, request: GenerationRequest, config: VendorConfig) -> float:
        return pick_duration(request.duration_s, self.allowed_durations(config))

    def cost_usd(self, request: GenerationRequest, payload: Any, config: VendorConfig) -> float | None:
        price = config.params.get("price_per_second_usd")
        if price is None:
            return None
        return round(float(price) * self.seconds_sent(request, config), 4)

    def metadata(self, payload: Any) -> dict[str, Any]:
        return {"vendor": self.vendor}

    def before_start(self, config: VendorConfig) -> None:
        """A last word before any key is read or request sent (Sora: retired)."""

    # --- the shared flow -----------------------------------------------------------------
    def generate(
        self,
        request: GenerationRequest,
        *,
        workdir: Path,
        resume_vendor_job_id: str | None,
        on_submitted: SubmittedCallback,
    ) -> GenerationResult:
        refuse_forbidden_params(request.params or {}, self.vendor)
        config = load_config(self, request.params or {})
        self.before_start(config)
        api_key = require_secret(self.key_env_names[0])
        self.extra_secrets: list[str] = []
        headers = self.headers(api_key, config)  # may add to extra_secrets (Kling's secret key, JWT)
        with VendorClient(
            self.vendor,
            config.base_url,
            headers=headers,
            secrets=[api_key, *self.extra_secrets],
            classify=self.classify,
        ) as client:
            job_id, payload = resume_vendor_job_id, None
            sent_at = create_sent_at(job_id)
            if sent_at is not None:  # an earlier attempt sent a create and never heard back
                job_id = self.recover_create(client, request, config, sent_at)
                on_submitted(job_id or "")
            if job_id:
                try:
                    payload = self.wait(client, job_id, config)
                except VendorJobDiscarded:
                    job_id = None  # the stored job failed in a way only a new job can cure
            if not job_id:
                job_id = self.create_once(client, request, config, on_submitted)
                payload = self.wait(client, job_id, config)
            dest = Path(workdir) / "vendor-output.mp4"
            self.fetch(client, job_id, payload, dest, config, api_key)
        return GenerationResult(
            video_path=dest,
            vendor_job_id=job_id,
            cost_usd=self.cost_usd(request, payload, config),
            vendor_metadata=self.metadata(payload),
        )

    def create_once(
        self, client: VendorClient, request: GenerationRequest, config: VendorConfig, on_submitted: SubmittedCallback
    ) -> str:
        """Create the vendor job, never paying twice for one request: see the module docstring."""
        sent_at = time.time()
        on_submitted(create_sent_marker(sent_at))
        try:
            job_id = self.create(client, request, config)
        except AnswerLost as lost:
            found = self.recover_create(client, request, config, sent_at, lost=lost)
            if not found:
                on_submitted("")
                raise AnswerLost(f"{lost} (the vendor shows no job for it: creating again is safe)") from None
            job_id = found
        except BackendError:
            on_submitted("")  # the vendor answered: it made nothing
            raise
        on_submitted(job_id)
        return job_id

    def recover_create(
        self,
        client: VendorClient,
        request: GenerationRequest,
        config: VendorConfig,
        sent_at: float,
        *,
        lost: AnswerLost | None = None,
    ) -> str | None:
        """The job a create sent at `sent_at` made, None when it made none (or the operator
        chose to create again regardless); CreateOutcomeUnknown when nobody can tell."""
        policy = config.params.get("lost_create_answer", "adopt_or_stop")
        if policy not in LOST_CREATE_POLICIES:
            raise PermanentError(
                f"lost_create_answer must be one of {LOST_CREATE_POLICIES}, not {policy!r}", code="invalid_request"
            )
        why = f"{self.vendor} offers no way to find out whether it made a job"
        try:
            found = self.find_created(client, request, config, since=sent_at - CLOCK_SKEW_S)
        except CreateOutcomeUnknown:
            raise
        except PermanentError as exc:  # the lookup itself refused (a compatible host without the list)
            found, why = CANNOT_LOOK, f"looking for the job it made failed ({exc})"
        if found is not CANNOT_LOOK:
            return found or None
        if policy == "recreate":
            return None
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(sent_at)) if sent_at else "an unknown time"
        raise CreateOutcomeUnknown(
            f"{self.vendor}: a create request sent at {when} got no answer"
            f"{f' ({lost})' if lost else ''}; {why}, so none is created again (that could pay twice). "
            "Check the vendor's dashboard; "
            'set lost_create_answer: "recreate" on the model to create again in such cases.'
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


INPUT_FIELDS = ("prompt", "negative_prompt", "duration", "aspect_ratio", "seed", "audio")


def model_input(request: GenerationRequest, config: VendorConfig, seconds: float) -> dict[str, Any]:
    """The input object of a model hosted on a generic platform (fal, Replicate), from catalog
    data alone: `input_fields` says which of our fields the model takes (and under which name,
    as {"ours": "theirs"} or a list of names kept as is; "audio" carries the catalog's
    `generate_audio` switch, e.g. {"audio": "generate_audio"}), `duration_format` how it wants
    the duration ("int", "str", "str_s" for "5s", "frames" for a frame count: seconds times
    `frames_per_second`, plus the first frame, as Wan's num_frames 81 = 5 s at 16 fps),
    `extra_input` fixed extras (resolution, the frame rate itself, ...)."""
    params = config.params
    fields = params.get("input_fields", ["prompt", "duration", "aspect_ratio"])
    names = fields if isinstance(fields, dict) else {name: name for name in fields}
    unknown = set(names) - set(INPUT_FIELDS)
    if unknown:
        raise PermanentError(f"catalog input_fields name unknown fields {sorted(unknown)}", code="invalid_request")
    duration_format = params.get("duration_format", "int")
    frame_rate = params.get("frames_per_second") if duration_format == "frames" else 0
    if duration_format == "frames" and (
        not isinstance(frame_rate, int) or isinstance(frame_rate, bool) or frame_rate <= 0
    ):
        raise PermanentError("duration_format 'frames' needs an integer frames_per_second", code="invalid_request")
    duration: Any = {
        "int": int(seconds),
        "str": as_number_text(seconds),
        "str_s": f"{as_number_text(seconds)}s",
        "float": float(seconds),
        "frames": round(seconds * frame_rate) + 1 if frame_rate else None,
    }.get(duration_format)
    if duration is None:
        raise PermanentError(f"unknown duration_format {duration_format!r}", code="invalid_request")
    ours = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or None,
        "duration": duration,
        "aspect_ratio": request.aspect_ratio,
        "seed": int(request.seed),
        "audio": params.get("generate_audio"),
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
