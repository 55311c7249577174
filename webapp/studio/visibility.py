"""Who may read a prompt's text, and who may cancel its jobs. An allowed prompt's text is
public. A held or rejected one's is not (it may be exactly what the policy keeps off the
site): only moderators, and the browser that submitted it, which carries the prompt's id in a
signed cookie. The same two may cancel the prompt's unfinished jobs. The cookie needs no
database row, so anonymous visitors still write nothing by reading pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from webapp.policy.states import can_moderate

from .models import Prompt

COOKIE = "screentest_submitted"
SALT = "screentest.submitted-prompts"
MAX_REMEMBERED = 20
MAX_AGE_S = 30 * 24 * 3600


def submitted_ids(request: HttpRequest) -> list[str]:
    value = request.get_signed_cookie(COOKIE, default="", salt=SALT, max_age=MAX_AGE_S)
    return [item for item in (value or "").split(",") if item]


def remember_submission(request: HttpRequest, response: HttpResponse, prompt: Prompt) -> None:
    """Let this browser read its own prompt while a moderator has not allowed it, and cancel
    its jobs (allowed or not)."""
    ids = [prompt.public_id, *(i for i in submitted_ids(request) if i != prompt.public_id)][:MAX_REMEMBERED]
    response.set_signed_cookie(
        COOKIE,
        ",".join(ids),
        salt=SALT,
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def may_read_text(request: HttpRequest, prompt: Prompt) -> bool:
    return prompt.is_public or can_moderate(request.user) or prompt.public_id in submitted_ids(request)


def may_cancel(request: HttpRequest, prompt: Prompt) -> bool:
    return can_moderate(request.user) or prompt.public_id in submitted_ids(request)


def canceller(request: HttpRequest) -> str:
    """Who cancelled, for the job's staff-only error_message and the log."""
    return f"moderator {request.user}" if can_moderate(request.user) else "the browser that submitted the prompt"
