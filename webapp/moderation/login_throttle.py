"""Throttling logins: after LOGIN_FAILURES_LIMIT failures for one username or from one IP
within a LOGIN_FAILURES_WINDOW_S window, every login attempt for it is refused until the
window ends.

Counters are the site's rate limiter (webapp/core/ratelimit.py), so the limit holds across
every web process. The authentication backend enforces it for every login form (ours and the
admin's); the login view checks first so it can answer with a clear 429. Chosen over
django-axes: a few lines on the cache we already run, with no extra models or middleware.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from webapp.core import ratelimit
from webapp.core.clients import client_ip, keyed_digest


def _limits(request, username: str | None) -> list[ratelimit.Limit]:
    def limit(kind: str, value: str) -> ratelimit.Limit:
        key = f"login-failures:{kind}:{keyed_digest(kind, value, 32)}"
        return ratelimit.Limit(key, settings.LOGIN_FAILURES_LIMIT, settings.LOGIN_FAILURES_WINDOW_S)

    limits = [limit("user", username.strip().casefold())] if username else []
    if request is not None:
        limits.append(limit("ip", client_ip(request)))
    return limits


def is_blocked(request, username: str | None) -> bool:
    return ratelimit.reached(*_limits(request, username)) is not None


def record_failure(request, username: str | None) -> None:
    ratelimit.hit(*_limits(request, username))


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_blocked(request, username or kwargs.get("email")):
            raise PermissionDenied("too many failed logins")  # authenticate() stops at this backend
        return super().authenticate(request, username=username, password=password, **kwargs)
