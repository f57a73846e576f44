"""A memo in each web process, in front of Redis, of what a token read
found there (the principal and the caller's marks), for
``FLATTR_API_MEMO_SECONDS`` (default 1; 0 switches it off).

A Redis round trip is cheap on a quiet machine and the largest cost of a
token read on a busy one (docs/scaling.md, "The edges"). The memo is only
used while this process is subscribed to ``CHANNEL``: every tombstone
(api.services.tombstone: a token revoked or deleted, a user saved, a
flattr or subscription of the caller) is published there and empties the
memo of every process, and this process's at once. Should the
subscription drop, the memo is emptied and unused until it is back, so an
entry never outlives a change by more than the delivery of one message.
The generation counter keeps a read that raced a change from being
remembered after it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)
CHANNEL = "api:gone"
MAX_ENTRIES = 50_000

_lock = threading.Lock()
_memo: dict[Any, tuple[float, Any]] = {}
_state: dict[str, Any] = {"generation": 0, "listening": False, "thread": None}


def _seconds() -> float:
    return float(getattr(settings, "FLATTR_API_MEMO_SECONDS", 1.0))


def get(key: Any) -> Any:
    """What was put under ``key`` less than the memo's seconds ago, or None."""
    if _seconds() <= 0:
        return None
    if not _state["listening"]:
        _listen_soon()
        return None
    entry = _memo.get(key)
    if entry is None or entry[0] <= time.monotonic():
        return None
    return entry[1]


def generation() -> int:
    """Read before the cache; give it to ``put``."""
    return _state["generation"]


def put(key: Any, value: Any, generation: int) -> None:
    """Remember ``value``, unless something was forgotten since ``generation``."""
    seconds = _seconds()
    if seconds <= 0 or not _state["listening"]:
        return
    with _lock:
        if generation != _state["generation"]:
            return
        if len(_memo) >= MAX_ENTRIES:
            _memo.clear()
        _memo[key] = (time.monotonic() + seconds, value)


def forget_all() -> None:
    with _lock:
        _state["generation"] += 1
        _memo.clear()


# SET each key to ARGV[1] for ARGV[2] seconds, then PUBLISH on ARGV[3].
_BURY = """
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'EX', ARGV[2]) end
redis.call('PUBLISH', ARGV[3], '1')
"""


def bury(keys: list[str], value: Any, ttl: int) -> None:
    """``cache.set_many`` of ``value`` on ``keys`` and the news to every
    process's memo, in one round trip; this process's memo at once."""
    forget_all()
    backend = caches["default"]
    if not hasattr(backend, "script"):  # another cache backend: no memo to tell
        backend.set_many(dict.fromkeys(keys, value), ttl)
        return
    encoded = backend._cache._serializer.dumps(value)  # type: ignore[attr-defined]
    backend.script(_BURY, keys=keys, args=(encoded, ttl, backend.make_key(CHANNEL)))


def _listen_soon() -> None:
    with _lock:
        if _state["thread"] is not None and _state["thread"].is_alive():
            return
        thread = threading.Thread(target=_listen, name="api-memo", daemon=True)
        _state["thread"] = thread
    thread.start()


def _listen() -> None:
    backend = caches["default"]
    channel = backend.make_key(CHANNEL)
    while True:
        pubsub = None
        try:
            client = backend._cache.get_client(None, write=False)  # type: ignore[attr-defined]
            pubsub = client.pubsub(ignore_subscribe_messages=False)
            pubsub.subscribe(channel)
            while True:
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                forget_all()
                if message["type"] == "subscribe":
                    _state["listening"] = True
        except Exception:  # noqa: BLE001 - Redis away: no memo until it is back
            log.debug("api memo: not subscribed", exc_info=True)
        finally:
            _state["listening"] = False
            forget_all()
            if pubsub is not None:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001
                    log.debug("api memo: close failed", exc_info=True)
        time.sleep(1.0)
