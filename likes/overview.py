"""Reads for the supporter's pages and the API: their connected accounts
with this month's figures, the likes waiting to be flattred by hand, their
like-flattrs with where each came from, and the words that say so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from buttons.services import current_period
from likes.connect import host_of
from likes.models import (
    TOKEN_FIELDS,
    AccountKind,
    AccountStatus,
    ConnectedAccount,
    Like,
    LikeState,
)

# The pages and the API show accounts, never their tokens: not even loaded
# (each would be decrypted, and a key dropped too early would break them).
ACCOUNT_TOKENS = tuple(f"account__{name}" for name in TOKEN_FIELDS)


def accounts_of(*, user: User, period: dt.date | None = None) -> list[ConnectedAccount]:
    """The supporter's accounts (not the disconnected ones), each with
    ``likes_seen`` and ``likes_flattred`` this month: one query."""
    period = period or current_period()
    return list(
        ConnectedAccount.objects.filter(user=user)
        .defer(*TOKEN_FIELDS)
        .exclude(status=AccountStatus.DISCONNECTED)
        .annotate(
            likes_seen=Count("likes", filter=Q(likes__seen_at__date__gte=period)),
            likes_flattred=Count(
                "likes", filter=Q(likes__state=LikeState.FLATTRED, likes__period=period)
            ),
        )
        .order_by("kind", "created_at", "id")
    )


def account_label(account: ConnectedAccount) -> str:
    """``alice@mastodon.example``, a GitHub login, a feed's title or host."""
    return account.remote_login or host_of(account.url)


def account_state_words(account: ConnectedAccount) -> tuple[str, str]:
    """(words, badge class) for the account's state, as the page says it."""
    if account.status == AccountStatus.REVOKED:
        return _("Access was withdrawn on the other side: connect it again."), "err"
    if account.status == AccountStatus.ERROR:
        # Never ``last_error``: it is English, for the admin and the logs.
        reason = error_words(account.last_error_code) or _("the last attempts to read it failed")
        return _("Not working: %(reason)s. We keep trying.") % {"reason": reason}, "err"
    if not account.enabled:
        return _("Paused: its likes are not read."), "warn"
    return _("Working"), "ok"


def error_words(code: str) -> str:
    """Why the polls of an account fail, in the page's language (the
    stored ``last_error`` is English, for the admin and the logs)."""
    words = {
        "bad_url": _("its address cannot be read"),
        "dns": _("its server's name does not resolve"),
        "address_refused": _("its server is on a private network"),
        "connect": _("we could not connect to its server"),
        "timeout": _("its server was too slow to answer"),
        "redirects": _("its server redirected too many times"),
        "too_large": _("its server's answer was too large"),
        "protocol": _("its server did not answer in HTTP"),
        "http_error": _("its server answered with an error"),
        "not_api": _("its server answered a web page, not its API"),
        "malformed": _("its server answered with malformed data"),
        "not_feed": _("its address no longer gives a feed"),
    }
    return words.get(code, "")


def public_address(url: str) -> str:
    """An account's address as others may see it: scheme, host and path.
    A private feed's address can carry its key (a user and password, a
    token in the query or the fragment); that stays with its owner."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def origin_words(kind: str, url: str) -> str:
    """Where a like-flattr came from: "Favourited on mastodon.example"."""
    if kind == AccountKind.MASTODON:
        return _("Favourited on %(server)s") % {"server": host_of(url)}
    if kind == AccountKind.GITHUB:
        return _("Starred on GitHub")
    return _("Liked in the feed at %(host)s") % {"host": host_of(url)}


def waiting_likes(*, user: User) -> QuerySet[Like]:
    """Likes over the monthly cap, to flattr by hand, newest first."""
    return (
        Like.objects.filter(supporter=user, state=LikeState.WAITING)
        .select_related("account")
        .defer(*ACCOUNT_TOKENS)
        .order_by("-liked_at", "-id")
    )


def like_flattrs(*, user: User) -> QuerySet[Like]:
    """The supporter's likes that became flattrs, newest first."""
    return (
        Like.objects.filter(supporter=user, state=LikeState.FLATTRED)
        .select_related("account", "thing")
        .defer(*ACCOUNT_TOKENS)
        .order_by("-flattred_at", "-id")
    )


def origins_for_flattrs(*, supporter: User, flattrs: Iterable[Any]) -> dict[int, str]:
    """{flattr id: "Favourited on mastodon.example"} for the like-flattrs
    among ``flattrs`` (buttons.origins calls this for My flattrs): one query."""
    wanted = {(f.thing_id, f.period): f.pk for f in flattrs}
    if not wanted:
        return {}
    likes = (
        Like.objects.filter(
            supporter=supporter,
            state=LikeState.FLATTRED,
            thing_id__in={thing for thing, _period in wanted},
            period__in={period for _thing, period in wanted},
        )
        .select_related("account")
        .only("thing_id", "period", "account__kind", "account__url")
    )
    found: dict[int, str] = {}
    for like in likes:
        flattr_id = wanted.get((like.thing_id, like.period))
        if flattr_id is not None and flattr_id not in found:
            found[flattr_id] = origin_words(like.account.kind, like.account.url)
    return found
