"""The rate limits of a flattr click (the confirm popup's POST), checked and
counted in one Redis round trip.

Accepted flattrs count against a per-user and a per-address limit
(``FLATTR_CLICK_RATE_PER_USER``, ``FLATTR_CLICK_RATE_PER_IP``); refused
attempts (empty wallet, already flattred, ...) against their own, higher
per-address limit (``FLATTR_REFUSED_RATE_PER_IP``), so a crowd behind one
address is not locked out by someone clicking in vain, and probing stays
bounded. Rates read like ``60/h`` (per second, minute, hour or day, or
``100/30s``); each limit counts in fixed windows of its period.

One Lua script checks the three counts and, when none is reached, counts
the click as accepted at once (it usually is); a refused flattr takes that
back and counts a refusal instead, a second round trip only then. The check
and the count are atomic, so two clicks at once cannot both take the last
place. While Redis is away the limits fail open, as every limit here does
(core/cache.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings

from core.cache import script as cache_script
from core.http import client_ip

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS: the accepted limits' keys, then the refused one. ARGV: the limit of
# each, then the lifetime of each. Returns 0 and counts the accepted keys,
# or the position (1-based) of the first limit reached and counts nothing.
_RESERVE = """
local n = #KEYS
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then return i end
end
for i = 1, n - 1 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[n + i]) end
end
return 0
"""

# KEYS as above; ARGV[1]: the refused key's lifetime. The accepted counts
# given back, the refusal counted.
_REFUSED = """
local n = #KEYS
for i = 1, n - 1 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
if redis.call('INCR', KEYS[n]) == 1 then redis.call('EXPIRE', KEYS[n], ARGV[1]) end
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/h"`` -> (60, 3600); ``"100/30s"`` -> (100, 30)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*", rate)
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


@dataclass(frozen=True)
class _Limit:
    key: str
    limit: int
    period: int


def _limits(request) -> list[_Limit]:
    now = int(time.time())
    ip = client_ip(request)
    named = [
        ("user", str(request.user.pk), settings.FLATTR_CLICK_RATE_PER_USER),
        ("ip", ip, settings.FLATTR_CLICK_RATE_PER_IP),
        ("refused-ip", ip, settings.FLATTR_REFUSED_RATE_PER_IP),
    ]
    limits = []
    for name, who, rate in named:
        limit, period = parse_rate(rate)
        limits.append(_Limit(f"flattr-click:{name}:{who}:{period}:{now // period}", limit, period))
    return limits


@dataclass
class Click:
    """A click let through; ``refused()`` when the flattr was refused."""

    limits: list[_Limit]

    def refused(self) -> None:
        keys = [limit.key for limit in self.limits]
        cache_script(_REFUSED, keys=keys, args=(self.limits[-1].period,))


def click_admit(request) -> Click | None:
    """The click counted as an accepted flattr, or None when a limit is
    reached (nothing counted)."""
    limits = _limits(request)
    args = (*(limit.limit for limit in limits), *(limit.period for limit in limits))
    keys = [limit.key for limit in limits]
    reached = cache_script(_RESERVE, keys=keys, args=args, fallback=lambda: 0)
    return None if reached else Click(limits)
