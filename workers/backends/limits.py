"""A concurrency cap and a rate limit per backend that hold across every worker process and
machine (Celery's rate_limit is per worker, so it is not enough).

- Concurrency: a semaphore of leased slots. A slot is held by one job for at most `lease_s`,
  so a worker killed mid-generation frees its slot when the lease runs out.
- Rate: a token bucket (`rate_per_minute`, burst `burst`), one token per vendor job started.

With Redis (`RedisLimiter`) both are one Lua script each, atomic across all workers and timed
by the Redis server's clock. Without Redis (the embedded single-machine default) `FileLimiter`
keeps the same state in a JSON file under an exclusive flock. The caller never waits inside:
a refused `acquire` says how long to wait, and the job is re-queued with that delay.

Limits come from catalog params: `max_concurrency`, `rate_per_minute`, `rate_burst`,
`limit_group` (default: the backend key, so every model of a backend shares the limits).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

BUSY_RETRY_S = 15.0


@dataclass(frozen=True)
class Limits:
    group: str
    max_concurrency: int = 0  # 0 = no cap
    rate_per_minute: float = 0.0  # 0 = no rate limit
    burst: float = 1.0
    lease_s: float = 900.0

    @property
    def active(self) -> bool:
        return self.max_concurrency > 0 or self.rate_per_minute > 0


def limits_from_params(backend_key: str, params: Mapping[str, Any], *, lease_s: float) -> Limits:
    rate = float(params.get("rate_per_minute") or 0)
    return Limits(
        group=str(params.get("limit_group") or backend_key),
        max_concurrency=int(params.get("max_concurrency") or 0),
        rate_per_minute=rate,
        burst=max(float(params.get("rate_burst") or 1), 1.0),
        lease_s=float(lease_s),
    )


@dataclass(frozen=True)
class Grant:
    granted: bool
    retry_after: float = 0.0
    reason: str = ""


_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local holder, cap, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rate, burst, busy = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if not redis.call('ZSCORE', KEYS[1], holder) and redis.call('ZCARD', KEYS[1]) >= cap then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, tostring(math.min(tonumber(first[2]) - now, busy)), 'concurrency'}
  end
end
if rate > 0 then
  local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(now - ts, 0) * rate)
  if tokens < 1 then
    redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'ts', tostring(now))
    return {0, tostring((1 - tokens) / rate), 'rate'}
  end
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - 1), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[2], math.ceil(burst / rate) + 60)
end
if cap > 0 then
  redis.call('ZADD', KEYS[1], now + lease, holder)
  redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 60)
end
return {1, '0', ''}
"""


class RedisLimiter:
    def __init__(self, redis_url: str, prefix: str = "screentest"):
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.prefix = prefix
        self._acquire = self.redis.register_script(_ACQUIRE)

    def _keys(self, group: str) -> list[str]:
        return [f"{self.prefix}:limits:{group}:slots", f"{self.prefix}:limits:{group}:bucket"]

    def acquire(self, limits: Limits, holder: str) -> Grant:
        if not limits.active:
            return Grant(True)
        ok, wait, reason = self._acquire(
            keys=self._keys(limits.group),
            args=[
                holder,
                limits.max_concurrency,
                limits.lease_s,
                limits.rate_per_minute / 60.0,
                limits.burst,
                BUSY_RETRY_S,
            ],
        )
        return Grant(bool(int(ok)), max(float(wait), 0.0), reason.decode() if isinstance(reason, bytes) else reason)

    def release(self, limits: Limits, holder: str) -> None:
        if limits.max_concurrency > 0:
            self.redis.zrem(self._keys(limits.group)[0], holder)

    def holders(self, group: str) -> list[str]:
        self.redis.zremrangebyscore(self._keys(group)[0], "-inf", time.time())
        return [h.decode() if isinstance(h, bytes) else str(h) for h in self.redis.zrange(self._keys(group)[0], 0, -1)]


class FileLimiter:
    """Same semantics on one machine: state in `<dir>/<group>.json`, changed under flock."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @contextmanager
    def _state(self, group: str):
        self.directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in group)
        with open(self.directory / f"{safe}.json", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            try:
                state = json.loads(fh.read() or "{}")
            except ValueError:
                state = {}
            yield state
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(state))
            fh.flush()
            os.fsync(fh.fileno())

    def acquire(self, limits: Limits, holder: str) -> Grant:
        if not limits.active:
            return Grant(True)
        now = time.time()
        with self._state(limits.group) as state:
            slots = {h: exp for h, exp in state.get("slots", {}).items() if exp > now}
            state["slots"] = slots
            if limits.max_concurrency > 0 and holder not in slots and len(slots) >= limits.max_concurrency:
                return Grant(False, min(min(slots.values()) - now, BUSY_RETRY_S), "concurrency")
            if limits.rate_per_minute > 0:
                rate = limits.rate_per_minute / 60.0
                tokens = min(
                    limits.burst, state.get("tokens", limits.burst) + max(now - state.get("ts", now), 0) * rate
                )
                state["ts"] = now
                if tokens < 1:
                    state["tokens"] = tokens
                    return Grant(False, (1 - tokens) / rate, "rate")
                state["tokens"] = tokens - 1
            if limits.max_concurrency > 0:
                slots[holder] = now + limits.lease_s
        return Grant(True)

    def release(self, limits: Limits, holder: str) -> None:
        if limits.max_concurrency > 0:
            with self._state(limits.group) as state:
                state.get("slots", {}).pop(holder, None)

    def holders(self, group: str) -> list[str]:
        with self._state(group) as state:
            return sorted(h for h, exp in state.get("slots", {}).items() if exp > time.time())
