"""Flattr's hourly API rate limit: FLATTR_API_RATE_LIMIT requests per clock
hour per token (per IP address without one), with the X-RateLimit-* headers.
If the cache is down the API stays up, without limits or headers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
WINDOW = 3600


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


def _key(ident: str, bucket: int) -> str:
    return f"api:rl:{ident}:{bucket}"


def rate_hit(*, ident: str, count: bool = True) -> RateState | None:
    limit = settings.FLATTR_API_RATE_LIMIT
    now = int(time.time())
    bucket = now // WINDOW
    reset = (bucket + 1) * WINDOW
    key = _key(ident, bucket)
    try:
        if count:
            cache.add(key, 0, WINDOW + 60)
            try:
                current = cache.incr(key)
            except ValueError:
                cache.set(key, 1, WINDOW + 60)
                current = 1
        else:
            current = int(cache.get(key) or 0)
    except Exception:  # noqa: BLE001 - a cache outage must not take the API down
        log.warning("API rate limit skipped: cache unavailable", exc_info=True)
        return None
    return RateState(limit=limit, current=current, reset=reset)
