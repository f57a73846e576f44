"""Heavy reads that tolerate a second of lag go to a read replica.

``DATABASE_REPLICA_URL`` (optional) adds ``DATABASES["replica"]``, a streaming
replica of the primary. Nothing reads it unless a view says it may:

    @replica_reads                                   # a function view
    @method_decorator(replica_reads, name="dispatch")  # a class-based view

Inside such a view, for a GET or HEAD, :class:`ReplicaRouter` sends reads to
the replica, except

- inside an atomic block (a service deciding about money reads what it locks:
  balances, the split, posting and withdrawals never read the replica);
- for a person who wrote in the last ``FLATTR_REPLICA_STICKY_SECONDS``
  (read your own writes): :class:`ReplicaStickyMiddleware` marks every
  non-safe request with a signed cookie, and, for a signed-in user, a cache
  key that also covers API clients keeping no cookies;
- while the replica is unreachable or more than
  ``FLATTR_REPLICA_MAX_LAG_SECONDS`` behind: a probe, cached for
  ``FLATTR_REPLICA_PROBE_SECONDS`` per process, decides, and a warning is
  logged when it fails. A query that fails on the replica anyway makes the
  view run again on the primary (GET and HEAD are safe to repeat).

The signed-in user of a session is loaded from the primary before the view
runs. A request with an Authorization header (a token) starts on the primary;
the API's views call :func:`replica_authenticated` once the token is checked.
Writes always go to the primary; nothing is migrated on the replica.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

logger = logging.getLogger(__name__)

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "flattr_wrote"
COOKIE_SALT = "core.db_router.wrote"


@dataclass
class _Scope:
    active: bool
    used: bool = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "flattr_replica_scope", default=None
)


@dataclass
class _Health:
    checked_at: float = float("-inf")
    ok: bool = False


_health = _Health()


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _sticky_seconds() -> float:
    return float(getattr(settings, "FLATTR_REPLICA_STICKY_SECONDS", 10))


def _user_key(pk: Any) -> str:
    return f"replica:wrote:{pk}"


# --- health -------------------------------------------------------------------

PROBE_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
"""


def _probe() -> str | None:
    """None when the replica may be read, else why not."""
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(PROBE_SQL)
            in_recovery, caught_up, lag = cursor.fetchone()
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            connection.close()
        return f"unreachable: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
    # A primary with nothing to replay, or a replica that has replayed all it
    # received from a live stream (an idle primary writes nothing, so the
    # last replayed transaction may be old), is current.
    if not in_recovery or caught_up:
        return None
    max_lag = float(getattr(settings, "FLATTR_REPLICA_MAX_LAG_SECONDS", 5))
    if lag is None:
        return "no transaction replayed yet"
    if lag > max_lag:
        return f"{lag:.1f} s behind (limit {max_lag:g} s)"
    return None


def replica_usable() -> bool:
    """Whether reads may go to the replica now (probe cached a few seconds)."""
    now = time.monotonic()
    if now - _health.checked_at < float(getattr(settings, "FLATTR_REPLICA_PROBE_SECONDS", 5)):
        return _health.ok
    reason = _probe()
    _health.checked_at, _health.ok = time.monotonic(), reason is None
    if reason is not None:
        logger.warning("Read replica not used, reading the primary: %s", reason)
    return _health.ok


def replica_mark_down(reason: str) -> None:
    _health.checked_at, _health.ok = time.monotonic(), False
    logger.warning("Read replica not used, reading the primary: %s", reason)


def replica_health_reset() -> None:
    """Forget the cached probe (tests; after a failover)."""
    _health.checked_at, _health.ok = float("-inf"), False


# --- the router -----------------------------------------------------------------


class ReplicaRouter:
    """Reads inside a replica scope go to the replica; everything else, and
    every write, to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        scope = _scope.get()
        if (
            scope is None
            or not scope.active
            or not replica_configured()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not replica_usable()
        ):
            return DEFAULT_DB_ALIAS
        scope.used = True
        return REPLICA

    def db_for_write(self, model: Any, **hints: Any) -> str:
        # An object read from the replica is saved to the primary.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


# --- read your own writes -----------------------------------------------------------


def wrote_recently(request: HttpRequest, *, user: Any = None) -> bool:
    """Whether this person wrote in the last few seconds (cookie, or the
    signed-in user's mark in the cache)."""
    sticky = _sticky_seconds()
    if COOKIE in request.COOKIES:
        stamp = request.get_signed_cookie(
            COOKIE, default=None, salt=COOKIE_SALT, max_age=dt.timedelta(seconds=sticky)
        )
        if stamp is not None:
            return True
    if user is not None and getattr(user, "is_authenticated", False):
        return cache.get(_user_key(user.pk)) is not None
    return False


class ReplicaStickyMiddleware:
    """After a request that may have written (any non-safe method), its
    author reads the primary for FLATTR_REPLICA_STICKY_SECONDS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in SAFE_METHODS or not replica_configured():
            return response
        sticky = _sticky_seconds()
        response.set_signed_cookie(
            COOKIE,
            str(int(time.time())),
            salt=COOKIE_SALT,
            max_age=int(sticky) or 1,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        # request.user is the API token's user after DRF authenticated it.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            cache.set(_user_key(user.pk), 1, timeout=max(1, int(sticky)))
        return response


# --- marking views ------------------------------------------------------------------


def replica_reads(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let this view's reads (GET and HEAD) go to the replica."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if (
            request.method not in SAFE_METHODS
            or not replica_configured()
            or _scope.get() is not None
        ):
            return view(request, *args, **kwargs)
        # The session's user comes from the primary (a fresh login or
        # signup may not be on the replica yet). Without a session cookie
        # the session is left untouched (no Vary: Cookie on public answers).
        user = None
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = getattr(request, "user", None)
            if user is not None:
                user.is_authenticated  # noqa: B018 - loads the lazy user here
        if wrote_recently(request, user=user):
            return view(request, *args, **kwargs)
        scope = _Scope(active="HTTP_AUTHORIZATION" not in request.META)
        token = _scope.set(scope)
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            if not scope.used:
                raise
            replica_mark_down(f"a read failed: {exc}")
            with contextlib.suppress(DatabaseError):
                connections[REPLICA].close()
        finally:
            _scope.reset(token)
        return view(request, *args, **kwargs)

    return wrapper


def replica_authenticated(request: Any) -> None:
    """Called once an API request's token is checked: its reads may now go
    to the replica, unless the token's user wrote a moment ago."""
    scope = _scope.get()
    if scope is None or scope.active:
        return
    user = getattr(request, "user", None)
    if not wrote_recently(getattr(request, "_request", request), user=user):
        scope.active = True
