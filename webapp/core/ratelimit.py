"""One rate limiter for the whole site: fixed windows counted in the shared cache, so a
limit holds across every web process. Votes, logins and submissions use it.

A counter's key carries its window number, so a window ends on the clock whatever happens
inside it. On Redis every counter of a check is incremented in one round trip
(core/redis_cache.py); on another cache (the embedded default's files) with add + incr.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import caches

from .redis_cache import RedisCache


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
    timeouts = [limits[i].window_s * 2 for i in active]  # a counter outlives its window
    cache = _cache()
    if isinstance(cache, RedisCache):
        counts = cache.incr_all([(key, timeout) for (key, _), timeout in zip(windows, timeouts)])
    else:
        counts = []
        for (key, _), timeout in zip(windows, timeouts):
            cache.add(key, 0, timeout=timeout)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=timeout)
                counts.append(1)
    for i, (_, left), count in zip(active, windows, counts):
        if count > limits[i].limit:
            waits[i] = left
    return waits


def reached(*limits: Limit) -> int | None:
    """Like hit() without counting: seconds until the first exhausted window ends, or None."""
    now = time.time()
    cache = _cache()
    for limit in limits:
        if limit.limit > 0:
            key, left = _window(limit, now)
            if (cache.get(key) or 0) >= limit.limit:
                return left
    return None
