"""Writes for connected accounts: connecting, switching on and off,
disconnecting, the supporter's cap, and flattring a waiting like by hand.

Polling lives in ``likes.polling``; turning likes into flattrs in
``likes.flattring``.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons.addresses import url_normalize
from buttons.models import Thing
from buttons.services import (
    AutoThing,
    FlattrRefused,
    flattr_create,
    things_for_auto_submit_many,
)
from likes.flattring import REFUSAL_REASONS, SOURCES, owners_for_urls
from likes.models import (
    AccountKind,
    AccountStatus,
    ConnectedAccount,
    InstanceApp,
    Like,
    LikeSettings,
    LikeState,
    SkipReason,
)


def poll_interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.FLATTR_LIKES_POLL_MINUTES)


def staggered_next_poll(now: dt.datetime) -> dt.datetime:
    """A moment within the next poll interval, so accounts connected
    together are not polled together."""
    return now + poll_interval() * random.random()  # noqa: S311 - spreading load, not a secret


def instance_app_save(
    *, base_url: str, client_id: str, client_secret: str, scopes: str, redirect_uri: str = ""
) -> InstanceApp:
    """Keep the OAuth application registered on a Mastodon-compatible
    server (one per server; registering again replaces it)."""
    app, _created = InstanceApp.objects.update_or_create(
        base_url=base_url.rstrip("/"),
        defaults={
            "client_id": client_id,
            "client_secret": client_secret,
            "scopes": scopes,
            "redirect_uri": redirect_uri,
        },
    )
    return app


@transaction.atomic
def connected_account_connect(
    *,
    user: User,
    kind: str,
    url: str,
    remote_id: str = "",
    remote_login: str = "",
    access_token: str = "",
    refresh_token: str = "",
    scopes: str = "",
    instance_app: InstanceApp | None = None,
    now: dt.datetime | None = None,
) -> ConnectedAccount:
    """Connect (or reconnect) an account: only likes made from now on count.
    Its first poll is due at once; it takes a baseline of what was already
    liked. Reconnecting the same remote account keeps its likes (so none is
    flattred twice) and starts counting again from now."""
    now = now or timezone.now()
    url = url.strip().rstrip("/") if kind != AccountKind.FEED else url.strip()
    account, created = ConnectedAccount.objects.select_for_update().get_or_create(
        user=user,
        kind=kind,
        url=url,
        remote_id=remote_id,
        defaults={"connected_at": now},
    )
    account.remote_login = remote_login
    account.access_token = access_token
    account.refresh_token = refresh_token
    account.scopes = scopes
    account.instance_app = instance_app
    account.enabled = True
    account.status = AccountStatus.ACTIVE
    account.next_poll_at = now
    account.backoff_until = None
    account.consecutive_errors = 0
    account.last_error = ""
    if not created and account.baseline_done:
        # Likes made while it was disconnected do not count.
        account.connected_at = now
        account.baseline_done = False
    account.save()
    return account


@transaction.atomic
def connected_account_set_enabled(
    *, user: User, account_id: int, enabled: bool
) -> ConnectedAccount:
    """The supporter's on/off switch. Off: no polls, no flattrs. On again:
    likes made while it was off do not count (a new baseline)."""
    account = ConnectedAccount.objects.select_for_update().get(pk=account_id, user=user)
    if account.enabled == enabled:
        return account
    now = timezone.now()
    account.enabled = enabled
    if enabled:
        account.connected_at = now
        account.baseline_done = False
        account.next_poll_at = now
        account.backoff_until = None
    account.save(
        update_fields=["enabled", "connected_at", "baseline_done", "next_poll_at", "backoff_until"]
    )
    return account


@transaction.atomic
def connected_account_disconnect(*, user: User, account_id: int) -> ConnectedAccount:
    """Disconnect: the stored tokens are deleted and polling stops; the
    likes seen stay (they say what was flattred, and keep a reconnect from
    flattring them again)."""
    account = ConnectedAccount.objects.select_for_update().get(pk=account_id, user=user)
    account.access_token = ""
    account.refresh_token = ""
    account.enabled = False
    account.status = AccountStatus.DISCONNECTED
    account.save(update_fields=["access_token", "refresh_token", "enabled", "status"])
    return account


@transaction.atomic
def like_settings_set(*, user: User, likes_per_month: int | None) -> LikeSettings:
    """The supporter's own monthly cap on like-flattrs (None: the default)."""
    if likes_per_month is not None and likes_per_month < 0:
        raise ValueError("likes_per_month cannot be negative")
    like_settings, _created = LikeSettings.objects.update_or_create(
        user=user, defaults={"likes_per_month": likes_per_month}
    )
    return like_settings


def like_flattr_by_hand(*, user: User, like_id: int) -> Like:
    """The supporter flattrs a like that waits (past the cap, or skipped on
    an empty wallet) through the button's own flattr service. Raises
    FlattrRefused, and records the like as skipped with the rule's reason
    where that reason will not change (own, hidden, already flattred)."""
    refusal: FlattrRefused | None = None
    with transaction.atomic():
        like = (
            Like.objects.select_for_update()
            .select_related("account")
            .filter(pk=like_id, supporter=user)
            .first()
        )
        if like is None:
            raise FlattrRefused("not_found", str(_("No such like of yours.")), 404)
        waiting = like.state == LikeState.WAITING or (
            like.state == LikeState.SKIPPED and like.reason == SkipReason.NO_MEANS
        )
        if not waiting:
            raise FlattrRefused("like_not_waiting", str(_("This like is not waiting.")), 409)
        try:
            with transaction.atomic():
                thing = _thing_for(user=user, like=like)
                flattr = flattr_create(
                    supporter=user, thing=thing, source=SOURCES[AccountKind(like.account.kind)]
                )
        except FlattrRefused as exc:
            refusal = exc
            reason = REFUSAL_REASONS.get(exc.code, SkipReason.REFUSED)
            if reason != SkipReason.NO_MEANS:
                like.state = LikeState.SKIPPED
                like.reason = reason
                like.save(update_fields=["state", "reason"])
        else:
            like.thing = thing
            like.state = LikeState.FLATTRED
            like.reason = ""
            like.period = flattr.period
            like.flattred_at = flattr.created_at
            like.save(update_fields=["thing", "state", "reason", "period", "flattred_at"])
    if refusal is not None:
        raise refusal
    return like


def _thing_for(*, user: User, like: Like) -> Thing:
    url = url_normalize(like.url)
    owner = owners_for_urls([url])[url]
    if owner is not None and owner == user.pk:
        raise FlattrRefused("flattr_owner", str(_("You cannot flattr your own thing.")), 403)
    want = AutoThing(owner_id=owner, url=url, title=like.title or url)
    thing = things_for_auto_submit_many(supporter=user, wanted=[want]).get((owner, url))
    if thing is None:
        raise FlattrRefused(
            "auto_submit_refused",
            str(_("This creator does not accept things submitted by supporters here.")),
            403,
        )
    return thing
