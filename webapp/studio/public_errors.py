"""What the public sees of a job's error: a plain message keyed by its `error_code`. The raw
`error_message` (a vendor's reply, an exception's text, which staff member cancelled) is for
the admin and the logs only: it can carry internal hosts, paths or usernames."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "rejected_by_vendor": "The vendor refused this prompt under its content policy.",
    "prompt_rejected": "A moderator rejected this prompt.",
    "prompt_not_allowed": "This prompt is not allowed here.",
    "cancelled": "Cancelled by the arena's operators.",
    "cancelled_by_user": "Cancelled before it finished, at the request of its submitter or a moderator.",
    "invalid_output": "The video the model returned could not be used.",
    "timed_out": "The model took too long to answer.",
    "attempts_exhausted": "The job was tried as often as allowed and gave up.",
    "too_large": "The video the model returned was too large.",
    "rate_limited": "The vendor asked us to slow down.",
    "deferred_by_limit": "Waiting for a free slot at the vendor.",
    "vendor_unavailable": "The vendor was unavailable.",
    "vendor_unreachable": "The vendor could not be reached.",
    "vendor_answer_lost": "The vendor's answer was lost on the way; trying again.",
    "create_outcome_unknown": (
        "The vendor may have started this video but its answer was lost; it was not ordered again "
        "to avoid paying twice. The operators can check with the vendor."
    ),
    "vendor_rate_limited": "The vendor asked us to wait; the job waits without losing a try.",
    "auth_failed": "This model is not available right now.",
    "missing_api_key": "This model is not available right now.",
    "account_problem": "This model is not available right now.",
    "unknown_backend": "This model is not available right now.",
    "ffmpeg_missing": "The arena could not process the video.",
    "ffmpeg_timeout": "Processing the video took too long.",
    "storage_full": "The arena ran out of disk space; the video is tried again later.",
    "storage_unavailable": "The arena's video storage could not be reached.",
}
FAILED = "The job failed."
RETRYING = "The last attempt failed; trying again."


def public_message(error_code: str, *, final: bool) -> str:
    """The message for `error_code`, or a generic one for a code not in the table."""
    return MESSAGES.get(error_code, FAILED if final else RETRYING)
