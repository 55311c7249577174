"""The login throttle (issue 12, item 2): per (account, address) and per address, counted
atomically before the password is checked, in fixed windows on Redis and on the file cache."""

import pickle
import threading
import time

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client, RequestFactory

from tests.unit.login_counting import CountingThrottledBackend, _CountingModelBackend
from webapp.core import ratelimit

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("admin", password=PASSWORD)


def login(username, password, ip) -> int:
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"username": username, "password": password}).status_code


def test_a_stranger_cannot_lock_the_admin_out_for_its_owner(admin, settings):
    settings.LOGIN_FAILURES_LIMIT = 5
    for _ in range(8):
        login("admin", "guess", "203.0.113.66")
    assert login("admin", PASSWORD, "203.0.113.66") == 429  # the stranger's address is locked
    assert login("admin", PASSWORD, "198.51.100.7") == 302  # the owner's is not


def test_one_address_spraying_many_accounts_is_stopped(admin, settings):
    settings.LOGIN_FAILURES_PER_IP_LIMIT = 4
    for name in ("ann", "bob", "cy", "dee"):
        login(name, "guess", "203.0.113.66")
    assert login("admin", PASSWORD, "203.0.113.66") == 429
    assert login("admin", PASSWORD, "198.51.100.7") == 302


def test_a_successful_login_is_not_counted_as_a_failure(admin, settings):
    settings.LOGIN_FAILURES_LIMIT = 2
    for _ in range(5):
        assert login("admin", PASSWORD, "198.51.100.7") == 302


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_evaluated_at_most_limit_times(settings):
    """Check-then-record let 8 of 24 parallel guesses through a limit of 5; counting first
    lets exactly 5 reach the password check."""
    User.objects.create_user("victim", password=PASSWORD)
    settings.LOGIN_FAILURES_LIMIT = 5
    settings.AUTHENTICATION_BACKENDS = ["tests.unit.login_counting.CountingThrottledBackend"]
    _CountingModelBackend.evaluated = 0
    start = threading.Barrier(24)
    results = []

    def guess(n):
        request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.66")
        start.wait()
        try:
            results.append(authenticate(request, username="victim", password=f"guess-{n}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [None] * 24
    assert _CountingModelBackend.evaluated == 5
    assert CountingThrottledBackend.__mro__[1] is not _CountingModelBackend  # the throttle runs first


@pytest.fixture
def file_cache(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
            "OPTIONS": settings.FILE_CACHE_OPTIONS,  # what the embedded stack runs with
        }
    }
    return caches["default"]


def test_on_the_file_cache_other_entries_never_evict_a_counter(file_cache):
    """The file cache culled a third of its files at random past 300 entries, counters too:
    the embedded stack's limits let through more than they allow."""
    limit = ratelimit.Limit("busy-cache", 5, 900)
    for round_ in range(5):
        assert ratelimit.hit(limit) is None
        for i in range(400):
            file_cache.set(f"other-{round_}-{i}", i, 600)
    assert ratelimit.hit(limit) is not None


def test_on_the_file_cache_parallel_hits_are_atomic(file_cache):
    limit = ratelimit.Limit("parallel", 5, 900)
    start = threading.Barrier(24)
    allowed = []

    def one():
        start.wait()
        allowed.append(ratelimit.hit(limit) is None)

    threads = [threading.Thread(target=one) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def test_on_the_file_cache_the_window_is_fixed_not_sliding(file_cache):
    """A counter expires when its window ends: later hits do not push it back (file cache incr
    used to rewrite it with the cache's default 300 s, a sliding 5-minute lock in a 15-minute
    window)."""
    window = 900
    limit = ratelimit.Limit("fixed", 5, window)
    for _ in range(7):
        ratelimit.hit(limit)
    now = time.time()
    key, _ = ratelimit._window(limit, now)
    with open(file_cache._key_to_file(key), "rb") as handle:
        expires_at = pickle.load(handle)
    window_end = (int(now // window) + 1) * window
    assert window_end - 2 <= expires_at <= window_end + 2
    assert ratelimit.reached(limit) is not None
