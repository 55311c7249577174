"""One rate limiter for the whole site: fixed windows counted in the shared cache, so a
limit holds across every web process. Votes and logins use it.

A counter's key carries its window number and expires when its window ends, so a window ends
on the clock whatever happens inside it: a limit of 5 per 900 s locks out until the 900 s
window is over, never for a sliding span. Counting is atomic, so N parallel hits against a
limit of L let exactly L through:
- on Redis every counter of a check is one INCR in one pipelined round trip, its lifetime set
  by the first hit only (EXPIRE NX; core/redis_cache.py);
- on any other cache (the embedded default's files, the tests' local memory) read-add-write
  runs under a lock: an flock'ed file beside a file cache (every process of the machine), a
  thread lock otherwise. The value is written with the time left in its window.

When the shared cache is down (a Redis outage), counting goes on in the process's own memory
(logged): each web process then holds the limits on its own, which is looser by the number of
processes but never a crash and never no limit at all.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError

from .redis_cache import RedisCache

_THREAD_LOCK = threading.Lock()
_LOCAL = LocMemCache("screentest-ratelimit-local", {"MAX_ENTRIES": 10000})
_CACHE_DOWN = (RedisError, OSError)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits on `key` per `window_s` seconds (a limit of 0 or less is off)."""

    key: str
    limit: int
    window_s: int = 60


def _window(limit: Limit, now: float) -> tuple[str, int]:
    number = int(now // limit.window_s)
    return f"ratelimit:{limit.key}:{number}", int((number + 1) * limit.window_s - now) or 1


def _cache():
    return caches["default"]  # the backend itself: `django.core.cache.cache` is a proxy, never a RedisCache


@contextmanager
def _counter_lock(cache) -> Iterator[None]:
    if isinstance(cache, FileBasedCache):
        directory = cache._dir  # type: ignore[attr-defined]  # the cache's folder; the stubs omit it
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "ratelimit.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        with _THREAD_LOCK:
            yield


def _add(cache, windows: list[tuple[str, int]], delta: int) -> list[int]:
    """Add `delta` to each counter (never below zero), atomically; returns the new counts."""
    if isinstance(cache, RedisCache):
        if delta > 0:  # each counter lives until its own window ends (EXPIRE NX on its first hit)
            return cache.incr_all([(key, left + 1) for key, left in windows])
        return cache.decr_existing([key for key, _ in windows])
    counts = []
    with _counter_lock(cache):
        for key, left in windows:
            count = max(int(cache.get(key) or 0) + delta, 0)
            cache.set(key, count, timeout=left + 1)  # expires with its window, never later
            counts.append(count)
    return counts


def _add_counting_anyway(windows: list[tuple[str, int]], delta: int) -> list[int]:
    try:
        return _add(_cache(), windows, delta)
    except _CACHE_DOWN as exc:
        log.warning("rate limiter: the shared cache is down (%s); counting in this process", exc)
        return _add(_LOCAL, windows, delta)


def hit(*limits: Limit) -> int | None:
    """Count one hit against every active limit. Returns None when all are within their limit,
    else the seconds until the window of the first one over it ends."""
    return next((wait for wait in hit_each(*limits) if wait is not None), None)


def hit_each(*limits: Limit) -> list[int | None]:
    """Count one hit against every limit (in one round trip on Redis); for each, None when it is
    within its limit (or off), else the seconds until its window ends."""
    waits: list[int | None] = [None] * len(limits)
    active = [i for i, limit in enumerate(limits) if limit.limit > 0]
    if not active:
        return waits
    now = time.time()
    windows = [_window(limits[i], now) for i in active]
    counts = _add_counting_anyway(windows, +1)
    for i, (_, left), count in zip(active, windows, counts):
        if count > limits[i].limit:
            waits[i] = left
    return waits


def undo(*limits: Limit) -> None:
    """Take back one hit counted by hit() in the current windows (a login that succeeded)."""
    active = [limit for limit in limits if limit.limit > 0]
    if active:
        now = time.time()
        _add_counting_anyway([_window(limit, now) for limit in active], -1)


def reached(*limits: Limit) -> int | None:
    """Like hit() without counting: seconds until the first exhausted window ends, or None."""
    now = time.time()
    for limit in limits:
        if limit.limit > 0:
            key, left = _window(limit, now)
            try:
                count = _cache().get(key)
            except _CACHE_DOWN:
                count = _LOCAL.get(key)
            if (count or 0) >= limit.limit:
                return left
    return None
