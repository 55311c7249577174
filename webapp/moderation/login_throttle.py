"""Throttling logins, per (account, address) and per address, in fixed windows.

- LOGIN_FAILURES_LIMIT attempts for one username from one IP address per
  LOGIN_FAILURES_WINDOW_S window: guessing one account's password from one place stops there.
- LOGIN_FAILURES_PER_IP_LIMIT attempts from one address per window, whatever the usernames:
  spraying many accounts from one place stops too.
There is no per-account counter across addresses: that one let anybody lock `admin` out for its
owner by failing five times (a lock-out anyone could trigger).

An attempt is counted *before* its password is checked (core/ratelimit.py counts atomically),
and given back when it succeeds, so parallel attempts cannot all pass a check-then-record gap:
of N simultaneous wrong passwords only the limit's worth are ever evaluated. The
authentication backend does this for every login form (ours and the admin's); the login view
asks first only to answer with a clear 429. Chosen over django-axes: a few lines on the cache
we already run, with no extra models or middleware.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from webapp.core import ratelimit
from webapp.core.clients import client_ip, keyed_digest


def _limits(request, username: str | None) -> list[ratelimit.Limit]:
    window = settings.LOGIN_FAILURES_WINDOW_S
    ip = client_ip(request) if request is not None else ""
    limits = [
        ratelimit.Limit(f"login:ip:{keyed_digest('login-ip', ip, 32)}", settings.LOGIN_FAILURES_PER_IP_LIMIT, window)
    ]
    if username:
        account = f"{username.strip().casefold()}\n{ip}"
        limits.append(
            ratelimit.Limit(
                f"login:account-ip:{keyed_digest('login-account-ip', account, 32)}",
                settings.LOGIN_FAILURES_LIMIT,
                window,
            )
        )
    return limits


def is_blocked(request, username: str | None) -> bool:
    """Whether a login for `username` from this request's address would be refused now."""
    return ratelimit.reached(*_limits(request, username)) is not None


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        limits = _limits(request, username or kwargs.get("email"))
        if ratelimit.hit(*limits) is not None:  # counted first, atomically: no race to the check
            raise PermissionDenied("too many failed logins")  # authenticate() stops at this backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            ratelimit.undo(*limits)  # a successful login is not a failure
        return user
