"""Flattr counts served from the cache (Redis), kept right by the write path.

A read that misses counts in PostgreSQL (an index-only scan on
``flattr_thing_period``) and stores the figure with ``add``; a committed flattr
increments the figures already cached. Keys expire after ``TTL`` so a rare
race between a miss and a write heals itself.
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.core.cache import cache

from buttons.assets import embed_template_version
from core.cache import script as cache_script
from notifications import queue

TTL = 600


def _keys(thing_id: int, period: dt.date) -> tuple[str, str]:
    return f"thing:{thing_id}:count:all", f"thing:{thing_id}:count:{period:%Y-%m}"


def counts(*, thing_id: int, period: dt.date) -> tuple[int, int]:
    """(this month's count, all-time count)."""
    key_all, key_month = _keys(thing_id, period)
    cached = cache.get_many([key_all, key_month])
    if key_all in cached and key_month in cached:
        return cached[key_month], cached[key_all]
    return _count_and_store(thing_id=thing_id, period=period)


def _count_and_store(*, thing_id: int, period: dt.date) -> tuple[int, int]:
    """Both counts in one query (an index-only scan on ``flattr_thing_period``),
    stored with ``add`` (a write path's figure, if one came first, wins)
    in one round trip."""
    from django.db.models import Count, Q

    from buttons.models import Flattr

    row = Flattr.objects.filter(thing_id=thing_id).aggregate(
        total=Count("id"), month=Count("id", filter=Q(period=period))
    )
    month, total = row["month"], row["total"]
    key_all, key_month = _keys(thing_id, period)
    cache_script(_ADD_BOTH, keys=[key_all, key_month], args=(total, month, TTL))
    return month, total


# SET NX EX on each key with its value: two ``add``s in one round trip.
_ADD_BOTH = """
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i], 'NX', 'EX', ARGV[#KEYS + 1])
end
"""

# INCR the keys that exist (a key that does not is counted from the database
# by the next read): ``incr`` of each in one round trip instead of two each.
_INCR_CACHED = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCR', key) end
end
"""

# The first ARGV[1] KEYS are counters, INCRed where they exist; the last two
# are notifications.queue's list and flag, onto which ARGV[3...] (the keys
# of the flattrs' events) are pushed: the counters and the events' dispatch
# in the one round trip a flattr makes after its statement.
_RECORD = (
    queue.ENQUEUE_LUA
    + """
local n = tonumber(ARGV[1])
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCR', KEYS[i]) end
end
local events = {}
for i = 3, #ARGV do events[#events + 1] = ARGV[i] end
return enqueue(KEYS[n + 1], KEYS[n + 2], ARGV[2], events)
"""
)


def record_flattr(*, thing_id: int, period: dt.date) -> None:
    _forget_local(thing_id)
    cache_script(_INCR_CACHED, keys=list(_keys(thing_id, period)))


def record_flattrs(*, thing_ids: list[int], period: dt.date, events: tuple[str, ...] = ()) -> None:
    """``record_flattr`` for many things in one round trip (a page of likes
    flattring things nobody looked at costs one trip, not one a flattr),
    with the keys of their ``events`` queued for dispatch in the same trip
    (``notifications.queue``: while Redis is away the sweeper finds them)."""
    wanted = set(thing_ids)
    for memo in [k for k in list(_local) if k[0] in wanted]:
        _local.pop(memo, None)
    keys = [key for thing_id in thing_ids for key in _keys(thing_id, period)]
    if not keys and not events:
        return
    flag = cache_script(
        _RECORD,
        keys=keys + queue.enqueue_keys(),
        args=(len(keys), queue.SOON_SECONDS, *events),
    )
    queue.drain_soon(flag_set=flag)


PAGE_TTL = 300


def page_key(thing_id: int, name: str) -> str:
    return f"thing:{thing_id}:page:{name}"


# A one-second memo in each web process in front of Redis: the embed and
# count.json are served with ``max-age=30`` anyway, so a second more of
# staleness across processes changes nothing for readers, and a flattr
# made through this process clears its entries at once.
LOCAL_TTL = 1.0
LOCAL_MAX = 20_000
_local: dict[tuple, tuple[float, tuple]] = {}


def _forget_local(thing_id: int) -> None:
    for key in [k for k in list(_local) if k[0] == thing_id]:
        _local.pop(key, None)


def snapshot(*, thing_id: int, period: dt.date, page: str) -> tuple[int, int, object]:
    """Counts and one cached page fragment in a single cache round trip (or
    none, within a second of the last one): the embed and count.json hot
    paths touch neither PostgreSQL nor the template engine."""
    now = time.monotonic()
    memo = _local.get((thing_id, period, page))
    if memo is not None and memo[0] > now:
        return memo[1]
    result = _snapshot(thing_id=thing_id, period=period, page=page)
    if result[2] is not None:
        if len(_local) >= LOCAL_MAX:
            _local.clear()
        _local[(thing_id, period, page)] = (now + LOCAL_TTL, result)
    return result


def _snapshot(*, thing_id: int, period: dt.date, page: str) -> tuple[int, int, object]:
    key_all, key_month = _keys(thing_id, period)
    key_page = page_key(thing_id, page)
    cached = cache.get_many([key_all, key_month, key_page])
    if key_all in cached and key_month in cached:
        month, total = cached[key_month], cached[key_all]
    else:
        month, total = _count_and_store(thing_id=thing_id, period=period)
    return month, total, cached.get(key_page)


def store_page(*, thing_id: int, page: str, value) -> None:
    cache.set(page_key(thing_id, page), value, PAGE_TTL)
    _forget_local(thing_id)


def forget_pages(*, thing_id: int) -> None:
    """Called when a thing changes: its cached embed and card go."""
    _forget_local(thing_id)
    version = embed_template_version()
    # "api": the REST API's public thing (api.selectors.thing_public).
    names = ["card", "api"] + [
        f"embed:{style}:{lang}:{version}"
        for style in ("default", "compact")
        for lang, _ in settings.LANGUAGES
    ]
    cache.delete_many([page_key(thing_id, name) for name in names])


def forget_counts(*, thing_id: int, period: dt.date) -> None:
    """Called when a flattr is undone: the next read counts again."""
    _forget_local(thing_id)
    cache.delete_many(list(_keys(thing_id, period)))
