"""Sessions kept in the database and cached in Redis (Django's cached_db), except that the
cache may be down: every cache call that fails is logged and skipped, and the session is read
from and written to the database alone. (Django's own cached_db raises on some of them.)"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches

log = logging.getLogger(__name__)


class _TolerantCache:
    """The cache calls cached_db makes, each one answering "not cached" when the cache fails."""

    def __init__(self, cache: Any):
        self._cache = cache

    def _try(self, what: str, call, default: Any) -> Any:
        try:
            return call()
        except Exception as exc:
            log.warning("session cache unavailable (%s): %s", what, exc)
            return default

    def get(self, key: str, default: Any = None) -> Any:
        return self._try("get", lambda: self._cache.get(key, default), default)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self._try("set", lambda: self._cache.set(key, value, timeout), None)

    def delete(self, key: str) -> None:
        self._try("delete", lambda: self._cache.delete(key), None)

    def __contains__(self, key: str) -> bool:
        return bool(self._try("has_key", lambda: key in self._cache, False))

    def __repr__(self) -> str:
        return repr(self._cache)


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None):
        super().__init__(session_key)
        self._cache: Any = _TolerantCache(caches[settings.SESSION_CACHE_ALIAS])
