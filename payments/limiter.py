"""One pace for every Stripe request of every worker.

Stripe allows about 100 requests a second in live mode and 25 in test mode,
per account, whichever process sends them. ``stripe_slot()`` blocks until
all workers together are under ``STRIPE_MAX_REQUESTS_PER_SECOND``: a
sliding-window log in Redis (a sorted set of grant times), read and written
by one Lua script, so two workers can never both take the last slot. The
script reads Redis's own clock (``TIME``), so workers on machines whose
clocks differ still share one window.

A rate below one a second grants one request per ``1 / rate`` seconds.
Without Redis, with ``DEBUG`` on (a laptop, a test), a lock in this process
paces its own threads; with ``DEBUG`` off a missing limiter is a temporary
failure (``GatewayUnreachable``): charging waits rather than outruns Stripe.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache

from payments.gateways.base import GatewayUnreachable

logger = logging.getLogger(__name__)

KEY = "payments:stripe-slots"

# KEYS[1]: the sorted set of grants (score: microseconds on Redis's clock).
# ARGV: window in microseconds, requests allowed per window, a unique member.
# Returns 0 when granted, else the microseconds until the oldest grant in the
# window leaves it.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local allowed = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < allowed then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""

# Added to the one-second window: a request granted at the very end of a
# window and one granted at the start of the next may reach Stripe a few
# milliseconds apart in the other order (scheduling, the network), which
# would put one too many in a second as Stripe counts. 5% of throughput.
GUARD = 0.05

# The longest single sleep between two tries: a slot freed by a shorter
# window (settings changed) is not missed for long.
_MAX_NAP = 0.25

_serial = iter(range(1, 1 << 62))
_serial_lock = threading.Lock()


def window() -> tuple[float, int]:
    """(seconds, requests allowed in any window of that length)."""
    rate = float(settings.STRIPE_MAX_REQUESTS_PER_SECOND)
    if rate <= 0:
        raise GatewayUnreachable("STRIPE_MAX_REQUESTS_PER_SECOND must be positive")
    if rate < 1:
        return 1 / rate + GUARD, 1
    return 1.0 + GUARD, math.floor(rate)


def _member() -> str:
    with _serial_lock:
        n = next(_serial)
    return f"{os.getpid()}:{threading.get_ident()}:{n}"


def _redis_wait(seconds: float, allowed: int) -> float:
    """One try on Redis: 0.0 when granted, else seconds to wait. Raises
    ConnectionError (or redis' errors) when Redis cannot answer."""
    if hasattr(cache, "is_available") and not cache.is_available():
        raise ConnectionError("cache unavailable")
    key = cache.make_and_validate_key(KEY)
    client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
    waited = client.eval(_SCRIPT, 1, key, int(seconds * 1_000_000), allowed, _member())
    return int(waited) / 1_000_000


class _LocalWindow:
    """The same window for the threads of one process (DEBUG, no Redis)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.grants: collections.deque[float] = collections.deque()

    def wait(self, seconds: float, allowed: int) -> float:
        with self.lock:
            now = time.monotonic()
            while self.grants and self.grants[0] <= now - seconds:
                self.grants.popleft()
            if len(self.grants) < allowed:
                self.grants.append(now)
                return 0.0
            return max(1e-6, self.grants[0] + seconds - now)


_local = _LocalWindow()


def _try_once(seconds: float, allowed: int) -> float:
    try:
        return _redis_wait(seconds, allowed)
    except Exception as exc:  # noqa: BLE001 - any Redis failure: fall back or refuse
        if not settings.DEBUG:
            logger.warning("Stripe limiter unavailable: %s", exc)
            raise GatewayUnreachable("the Stripe rate limiter (Redis) is unavailable") from exc
        logger.debug("Stripe limiter on Redis unavailable, pacing this process only: %s", exc)
        return _local.wait(seconds, allowed)


def stripe_slot(*, timeout: float | None = None) -> None:
    """Block until a Stripe request may be sent now.

    ``timeout``: give up after this many seconds with ``GatewayUnreachable``
    (the caller tries again later with the same idempotency key); None waits
    as long as it takes, which under a steady load is at most a window."""
    seconds, allowed = window()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = _try_once(seconds, allowed)
        if wait <= 0:
            return
        nap = min(wait, _MAX_NAP)
        if deadline is not None and time.monotonic() + nap > deadline:
            raise GatewayUnreachable("no Stripe request slot within the deadline")
        time.sleep(nap)
