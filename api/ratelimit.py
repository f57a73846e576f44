"""Flattr's hourly API rate limit: FLATTR_API_RATE_LIMIT requests per clock
hour per token (per IP address without one), with the X-RateLimit-* headers.

The count lives in Redis (one key per caller and hour, shared by every web
process). Each process adds its hits to it at most once a second per caller
(INCRBY of what it counted meanwhile), so a busy caller costs Redis one
round trip a second instead of one a request; the first request of a caller
always goes to Redis. A caller may therefore get a second's worth of
requests per process beyond the limit, never more. If the cache is down the
API stays up, without limits or headers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
WINDOW = 3600
SYNC_SECONDS = 1.0
LOCAL_MAX = 50_000


@dataclass
class RateState:
    limit: int
    current: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.current, 0)

    @property
    def exceeded(self) -> bool:
        return self.current > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Current": str(self.current),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass
class _Entry:
    known: int = 0  # the shared count at the last sync
    pending: int = 0  # hits of this process since
    synced: float = 0.0  # monotonic time of the last sync


_local: dict[str, _Entry] = {}
_lock = threading.Lock()


def _key(ident: str, bucket: int) -> str:
    return f"api:rl:{ident}:{bucket}"


def _incrby(key: str, amount: int) -> int:
    """INCRBY and EXPIRE in one pipelined round trip on Redis itself
    (Django's ``incr`` takes two, and a separate EXPIRE a third)."""
    if hasattr(cache, "is_available") and not cache.is_available():
        raise ConnectionError("cache unavailable")
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.incrby(full_key, amount)
    pipe.expire(full_key, WINDOW + 60)
    current, _expiry_set = pipe.execute()
    return int(current)


def _count(key: str) -> int:
    now = time.monotonic()
    with _lock:
        entry = _local.get(key)
        if entry is None:
            if len(_local) >= LOCAL_MAX:
                _local.clear()
            entry = _local[key] = _Entry()
        entry.pending += 1
        if entry.synced and now - entry.synced < SYNC_SECONDS:
            return entry.known + entry.pending
        amount, entry.pending = entry.pending, 0
    try:
        total = _incrby(key, amount)
    except Exception:
        with _lock:
            entry.pending += amount
        raise
    with _lock:
        entry.known, entry.synced = total, now
        return entry.known + entry.pending


def _peek(key: str) -> int:
    with _lock:
        entry = _local.get(key)
        pending = entry.pending if entry is not None else 0
    return int(cache.get(key) or 0) + pending


def rate_hit(*, ident: str, count: bool = True) -> RateState | None:
    limit = settings.FLATTR_API_RATE_LIMIT
    bucket = int(time.time()) // WINDOW
    reset = (bucket + 1) * WINDOW
    key = _key(ident, bucket)
    try:
        current = _count(key) if count else _peek(key)
    except Exception:  # noqa: BLE001 - a cache outage must not take the API down
        log.debug("API rate limit skipped: cache unavailable", exc_info=True)
        # Through the fail-soft backend, so its breaker opens for a while
        # and later requests do not wait for Redis.
        cache.get(key)
        return None
    return RateState(limit=limit, current=current, reset=reset)


def forget_local() -> None:
    """Drop this process's pending counts (tests clear Redis between runs)."""
    with _lock:
        _local.clear()
