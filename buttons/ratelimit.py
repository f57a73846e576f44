"""A small fixed-window rate limiter on the shared cache (Redis)."""

from __future__ import annotations

import time

from django.core.cache import cache

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/h"`` -> (60, 3600)."""
    count, _, unit = rate.partition("/")
    return int(count), UNITS[unit.strip()[-1]] * int(unit.strip()[:-1] or 1)


def hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one hit; False when the limit for the current window is exceeded."""
    limit, window = parse_rate(rate)
    bucket = int(time.time() // window)
    cache_key = f"rl:{scope}:{key}:{bucket}"
    cache.add(cache_key, 0, window + 5)
    try:
        value = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, window + 5)
        value = 1
    return value <= limit
