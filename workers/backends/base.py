"""The contract every video backend adapter follows.

An adapter turns a frozen `GenerationRequest` into a `GenerationResult` whose `video_path`
is a local file the caller owns. Adapters never import Django: everything they need (model
id, limits, endpoints, keys' environment variable names) arrives as data in
`GenerationRequest.params`, taken from the catalog.

Errors are a small taxonomy so the task layer can decide without knowing the vendor:
`RetryableError` (try again later, maybe after `retry_after` seconds), `VendorPolicyRejection`
(the vendor refused the content: final, shown as such), `PermanentError` (final), and
`GenerationTimeout` (the vendor did not finish before our deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # capabilities.py imports the registry, which imports this module
    from .capabilities import Capabilities


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    duration_s: float
    width: int
    height: int
    aspect_ratio: str
    seed: int
    negative_prompt: str = ""
    # Model-specific parameters from the catalog (vendor model id, fps, limits, ...).
    params: Mapping[str, Any] = field(default_factory=dict)
    # Our own job reference; adapters pass it to vendors that accept an idempotency key.
    client_reference: str = ""


@dataclass(frozen=True)
class GenerationResult:
    video_path: Path
    vendor_job_id: str
    cost_usd: float | None = None
    # Whatever the vendor said about the result, JSON-serialisable, for provenance.
    vendor_metadata: Mapping[str, Any] = field(default_factory=dict)


class BackendError(Exception):
    """Base of the taxonomy. `code` is a short machine-readable reason."""

    code = "backend_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class RetryableError(BackendError):
    code = "retryable"

    def __init__(self, message: str, *, retry_after: float | None = None, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class VendorJobDiscarded(RetryableError):
    """The vendor job ended in a failure that only a *new* job can cure (Runway's
    INTERNAL.BAD_OUTPUT): polling it again changes nothing. The adapter that resumes such a
    job creates a new one instead, so every retry is a real new attempt."""

    code = "vendor_job_discarded"


class AnswerLost(RetryableError):
    """The request went out but no answer came back (connection reset, read timeout): the
    vendor may have acted on it. Harmless for a GET; for a create it may mean a paid job we
    do not know the id of (`PollingBackend` then looks for it before anything else)."""

    code = "vendor_answer_lost"


class VendorPolicyRejection(BackendError):
    code = "rejected_by_vendor"


class PermanentError(BackendError):
    code = "permanent"


class CreateOutcomeUnknown(PermanentError):
    """A create request reached the vendor, its answer was lost, and the vendor offers no way
    to find out whether it made a job (no idempotency key, no listing). Final: creating again
    could pay for a second generation. Staff can check the vendor's dashboard, or an operator
    can choose to create again (catalog param `lost_create_answer: "recreate"`)."""

    code = "create_outcome_unknown"


class GenerationTimeout(BackendError):
    code = "timed_out"


# Called once the vendor has accepted the job, before any polling, so the caller can persist
# the vendor job id and a retried task resumes that job instead of paying for a new one.
# Also called with a "create sent" marker (`vendor.CREATE_SENT_PREFIX`) just before a create
# request goes out, and with "" when the vendor refused the create, so an attempt that dies
# between sending and hearing back leaves a trace the next attempt looks for.
SubmittedCallback = Callable[[str], None]


@runtime_checkable
class BackendCatalog(Protocol):
    """What checking a catalog entry needs of an adapter, without generating anything.

    `key_env_names` is the fixed list of environment variables the adapter reads its keys
    from (each may also be given as `<NAME>_FILE`): callers ask it, catalog data never sets it.
    """

    key: str
    key_env_names: tuple[str, ...]

    @classmethod
    def capabilities(cls, params: Mapping[str, Any]) -> Capabilities:
        """What the model a catalog entry names can do (durations, sizes, audio, seed, ...)."""
        ...


@runtime_checkable
class VideoBackend(BackendCatalog, Protocol):
    """What the registry hands out. One instance per call; adapters keep no global state."""

    def generate(
        self,
        request: GenerationRequest,
        *,
        workdir: Path,
        resume_vendor_job_id: str | None,
        on_submitted: SubmittedCallback,
    ) -> GenerationResult:
        """Create (or resume) the vendor job, wait for it, download the video into `workdir`."""
        ...
