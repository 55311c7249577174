"""An authentication backend for tests: the real throttled backend, with a count of the
password checks that actually ran (ModelBackend.authenticate is where the password is read)."""

import threading

from django.contrib.auth.backends import ModelBackend

from webapp.moderation.login_throttle import ThrottledModelBackend


class _CountingModelBackend(ModelBackend):
    evaluated = 0
    lock = threading.Lock()

    def authenticate(self, request, username=None, password=None, **kwargs):
        with _CountingModelBackend.lock:
            _CountingModelBackend.evaluated += 1
        return super().authenticate(request, username=username, password=password, **kwargs)


class CountingThrottledBackend(ThrottledModelBackend, _CountingModelBackend):
    """MRO: the throttle first, then the counter, then Django's ModelBackend."""
