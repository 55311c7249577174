"""Throttling logins: after LOGIN_FAILURES_LIMIT failures for one username or from one IP
within LOGIN_FAILURES_WINDOW_S, every login attempt for it is refused until the window ends.

Counters live in the shared cache (Redis in production), so the limit holds across every web
process. The authentication backend enforces it for every login form (ours and the admin's);
the login view checks first so it can answer with a clear 429. Chosen over django-axes: this is
forty lines on the cache we already run, with no extra models, middleware or dependency.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

PREFIX = "login-failures"


def _key(kind: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{digest}"


def _keys(request, username: str | None) -> list[str]:
    from webapp.arena.services.voters import client_ip

    keys = [_key("user", (username or "").strip().casefold())] if username else []
    if request is not None:
        keys.append(_key("ip", client_ip(request)))
    return keys


def is_blocked(request, username: str | None) -> bool:
    limit = settings.LOGIN_FAILURES_LIMIT
    return limit > 0 and any((cache.get(key) or 0) >= limit for key in _keys(request, username))


def record_failure(request, username: str | None) -> None:
    for key in _keys(request, username):
        if cache.add(key, 1, timeout=settings.LOGIN_FAILURES_WINDOW_S):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURES_WINDOW_S)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_blocked(request, username or kwargs.get("email")):
            raise PermissionDenied("too many failed logins")  # authenticate() stops at this backend
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    record_failure(request, credentials.get("username"))
