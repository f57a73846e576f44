"""A Redis cache that degrades instead of failing.

Redis holds only what PostgreSQL can rebuild (counters, rendered fragments,
rate-limit windows), so an outage must not turn pages into 500s. While Redis
is unreachable every read is a miss, every write is dropped and ``incr``
raises ``ValueError`` as for a missing key: callers fall back to the
database as they do on a cold cache, and rate limits fail open. The outage
is logged once when it starts and once when it ends.

A failed call costs a connection attempt, so after one the backend stops
trying for ``RETRY_AFTER`` seconds (a small circuit breaker shared by the
threads of a process) and answers at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# LOCATION -> monotonic time before which we do not try again. Shared by the
# per-thread backend instances Django creates.
_open_until: dict[str, float] = {}
_lock = threading.Lock()
# Lua source -> its redis-py Script (which remembers the SHA).
_scripts: dict[str, Any] = {}


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", 5))
        # redis-py retries a failed command three times with a backoff of
        # seconds; one immediate retry is enough to replace a pooled
        # connection that died with a restarted Redis, and a page must not
        # wait seconds for a cache.
        options.setdefault("retry", Retry(NoBackoff(), 1))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)

    # --- the breaker ------------------------------------------------------

    def is_available(self) -> bool:
        """False while the breaker is open after a failed call."""
        return _open_until.get(self._location, 0.0) <= time.monotonic()

    def _call(self, name: str, fallback, *args, **kwargs):
        return self._guarded(
            lambda: getattr(super(FailSoftRedisCache, self), name)(*args, **kwargs), fallback
        )

    def _guarded(self, call, fallback):
        if not self.is_available():
            return fallback()
        try:
            result = call()
        except UNAVAILABLE as exc:
            with _lock:
                was_closed = _open_until.get(self._location, 0.0) == 0.0
                _open_until[self._location] = time.monotonic() + self.retry_after
            if was_closed:
                logger.warning(
                    "cache unavailable, serving from the database and failing rate limits open: %s",
                    exc,
                )
            return fallback()
        if _open_until.get(self._location, 0.0):
            with _lock:
                if _open_until.pop(self._location, None) is not None:
                    logger.warning("cache available again")
        return result

    # --- several commands in one round trip ------------------------------

    def script(
        self,
        source: str,
        *,
        keys: list[str],
        args: tuple = (),
        fallback=lambda: None,
        decode: bool = False,
    ):
        """Run the Lua ``source`` on ``keys`` (given as to ``get``: this
        cache's prefix and version are added) with ``args``, in one round
        trip (EVALSHA, the source sent once per connection pool). Integers
        are stored as plain numbers by this backend, other values pickled.
        ``fallback()`` while Redis is unavailable. With ``decode``, the
        script returns a list of values read with GET, given back as ``get``
        would (None for a missing key)."""
        full = [self.make_and_validate_key(key) for key in keys]

        def call():
            client = self._cache.get_client(full[0] if full else None, write=True)
            compiled = _scripts.get(source)
            if compiled is None:
                compiled = _scripts[source] = client.register_script(source)
            result = compiled(keys=full, args=list(args), client=client)
            if decode:
                loads = self._cache._serializer.loads  # type: ignore[attr-defined]
                return [None if value is None else loads(value) for value in result]
            return result

        return self._guarded(call, fallback)

    # --- the cache API ----------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # True ("stored") so callers that wait for a lock, such as allauth's
        # rate limiter, go ahead instead of locking everyone out.
        return self._call("add", lambda: True, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", lambda: None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", lambda: False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", lambda: False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", lambda: False, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unavailable).")

        return self._call("incr", missing, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", lambda: list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", lambda: None, keys, version)

    def clear(self):
        return self._call("clear", lambda: False)


def script(
    source: str,
    *,
    keys: list[str],
    args: tuple = (),
    fallback=lambda: None,
    decode: bool = False,
):
    """``FailSoftRedisCache.script`` on the default cache: several commands
    in one round trip (``fallback()`` while Redis is away)."""
    from django.core.cache import caches

    backend = caches["default"]
    if not isinstance(backend, FailSoftRedisCache):
        raise TypeError("the default cache must be core.cache.FailSoftRedisCache")
    return backend.script(source, keys=keys, args=args, fallback=fallback, decode=decode)
