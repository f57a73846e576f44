"""Batched dispatch of the events a hot path writes (a flattr's
``flattr.created``).

``events_publish`` queues one Celery task per transaction on commit: a
broker publish for every flattr. A hot writer instead records its events
in the database (the truth, as always) and pushes their keys onto a Redis
list in a round trip it makes anyway (``ENQUEUE_LUA`` is appended to its
own script: the flattr's counters). The first push after a drain also sets
a "drain soon" flag (SET NX), and only that push publishes the drain task,
so a burst of flattrs publishes once; beat drains the list every few
seconds as well (``notifications.tasks.events_drain``).

Nothing is lost when Redis or the broker is away: a key that never reached
the list, or was taken by a worker that died, belongs to an event whose
``dispatched_at`` is still empty, and ``notifications_sweep`` dispatches
those (``services.events_undispatched``). Dispatching is idempotent.
"""

from __future__ import annotations

from core.cache import script as cache_script

LIST_KEY = "notifications:dispatch"
SOON_KEY = "notifications:drain-soon"
# How long the flag keeps further pushes from publishing if the drain it
# announced never runs (the broker lost it): beat drains meanwhile.
SOON_SECONDS = 30
# Wait this long before draining, so a burst is dispatched together.
DRAIN_COUNTDOWN = 1
BATCH = 200

# A Lua function for a caller's script: push ``events`` (a table of event
# keys) onto ``list`` and set ``soon`` unless it is set; 1 when this push
# set it (the caller publishes the drain), else 0. RPUSH in chunks: Lua's
# unpack has a stack limit.
ENQUEUE_LUA = """
local function enqueue(list, soon, ttl, events)
  if #events == 0 then return 0 end
  for i = 1, #events, 1000 do
    redis.call('RPUSH', list, unpack(events, i, math.min(i + 999, #events)))
  end
  if redis.call('SET', soon, '1', 'NX', 'EX', ttl) then return 1 end
  return 0
end
"""

# The flag goes first, so a push made while this drain runs publishes
# another drain instead of waiting for beat.
_TAKE = """
redis.call('DEL', KEYS[2])
local keys = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #keys > 0 then redis.call('LTRIM', KEYS[1], #keys, -1) end
return keys
"""


def enqueue_keys() -> list[str]:
    """The KEYS a script that calls ``enqueue`` passes, in this order."""
    return [LIST_KEY, SOON_KEY]


def drain_soon(*, flag_set: object) -> None:
    """Publish the drain when the caller's push set the flag (``enqueue``
    returned 1). A broker outage is logged and left to beat and the
    sweeper: the events are in the database."""
    if flag_set != 1:
        return
    from django.db import transaction

    from notifications import tasks

    # robust: the flattr that queued the event is committed and must answer.
    transaction.on_commit(
        lambda: tasks.events_drain.apply_async(
            countdown=DRAIN_COUNTDOWN, ignore_result=True, retry=False
        ),
        robust=True,
    )


def take(*, limit: int = BATCH) -> list[str]:
    """Take up to ``limit`` queued event keys off the list (none while
    Redis is away)."""
    keys = cache_script(_TAKE, keys=enqueue_keys(), args=(limit,), fallback=list)
    return [key.decode() if isinstance(key, bytes) else key for key in keys or []]
