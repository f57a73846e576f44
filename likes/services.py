"""Writes for likes: the supporter's monthly cap, and flattring a waiting
like by hand.

Connecting, the on/off switch and disconnecting live in ``likes.connect``;
polling in ``likes.polling``; turning likes into flattrs in
``likes.flattring``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
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
from likes.flattring import MEANS_REFUSALS, REFUSAL_REASONS, SOURCES, owners_for_urls
from likes.models import (
    AccountKind,
    Like,
    LikeSettings,
    LikeState,
    SkipReason,
)


def poll_interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.FLATTR_LIKES_POLL_MINUTES)


@transaction.atomic
def like_settings_set(*, user: User, likes_per_month: int | None) -> LikeSettings:
    """The supporter's own monthly cap on like-flattrs (None: the default)."""
    if likes_per_month is not None and likes_per_month < 0:
        raise ValueError("likes_per_month cannot be negative")
    like_settings, _created = LikeSettings.objects.update_or_create(
        user=user, defaults={"likes_per_month": likes_per_month}
    )
    return like_settings


class LikeError(Exception):
    """A like cannot be flattred by hand (not the supporter's, not waiting)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def like_flattr_by_hand(*, user: User, like_id: int) -> Like:
    """The supporter flattrs a like that waits (past the cap, or on an empty
    wallet) through the button's own flattr service. Raises LikeError for a
    like that is not theirs or not waiting, FlattrRefused when the flattr
    rule refuses (then the like is recorded as skipped with the rule's
    reason, unless that reason is the wallet: it waits on)."""
    refusal: FlattrRefused | None = None
    with transaction.atomic():
        like = (
            Like.objects.select_for_update()
            .select_related("account")
            .filter(pk=like_id, supporter=user)
            .first()
        )
        if like is None:
            raise LikeError("not_found", str(_("There is no such like of yours.")))
        if like.state != LikeState.WAITING:
            raise LikeError("not_waiting", str(_("This like is not waiting to be flattred.")))
        try:
            with transaction.atomic():
                thing = _thing_for(user=user, like=like)
                flattr = flattr_create(
                    supporter=user, thing=thing, source=SOURCES[AccountKind(like.account.kind)]
                )
        except FlattrRefused as exc:
            refusal = exc
            if exc.code not in MEANS_REFUSALS:
                like.state = LikeState.SKIPPED
                like.reason = REFUSAL_REASONS.get(exc.code, SkipReason.REFUSED)
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
