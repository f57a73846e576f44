"""Writes for subscriptions: a thing flattred once in each month for 1, 3, 6
or 12 months.

Creating a subscription flattrs the current month at once, under the normal
flattr rules; that month counts as the first. The monthly renewals are made
by a beat task (notifications' side) that reads ``months_remaining`` and
``last_period``.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buttons.models import (
    SUBSCRIPTION_MONTHS,
    FlattrSource,
    Subscription,
    SubscriptionStatus,
    Thing,
)
from buttons.services import FlattrRefused, current_period, flattr_create, thing_owner_tell


def _live_subscription(*, supporter, thing: Thing, lock: bool = False) -> Subscription:
    qs = Subscription.objects.exclude(status=SubscriptionStatus.CANCELLED)
    if lock:
        qs = qs.select_for_update()
    subscription = qs.filter(supporter=supporter, thing=thing).first()
    if subscription is None:
        raise FlattrRefused("not_found", _("You are not subscribed to this thing."), 404)
    return subscription


@transaction.atomic
def subscription_create(*, supporter, thing: Thing, months: int) -> Subscription:
    """Subscribe ``supporter`` to ``thing`` for ``months`` months, flattring
    the current month now (unless it is already flattred). Raises
    FlattrRefused and writes nothing when refused."""
    if months not in SUBSCRIPTION_MONTHS:
        raise FlattrRefused(
            "invalid_parameters", _("A subscription lasts 1, 3, 6 or 12 months."), 400
        )
    if thing.hidden or thing.removed:
        raise FlattrRefused("thing_unavailable", _("This thing cannot be subscribed to."), 404)
    if thing.owner_id is not None and thing.owner_id == supporter.pk:
        raise FlattrRefused("thing_owner", _("You cannot subscribe to your own thing."), 403)
    if (
        Subscription.objects.exclude(status=SubscriptionStatus.CANCELLED)
        .filter(supporter=supporter, thing=thing)
        .exists()
    ):
        raise FlattrRefused("subscribed", _("You are already subscribed to this thing."), 403)
    period = current_period()
    try:
        flattr_create(supporter=supporter, thing=thing, source=FlattrSource.SUBSCRIPTION)
    except FlattrRefused as refused:
        # Already flattred by hand this month: that flattr is the first month.
        if refused.code != "flattr_once":
            raise
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                supporter=supporter,
                thing=thing,
                months=months,
                months_remaining=months - 1,
                last_period=period,
                status=SubscriptionStatus.ACTIVE,
            )
    except IntegrityError:
        # A concurrent request subscribed first; undo our flattr with it.
        raise FlattrRefused("subscribed", _("You are already subscribed to this thing."), 403)
    thing_owner_tell(
        thing=thing,
        type="subscription.created",
        data={"subscription_id": subscription.pk, "months": months},
        key=f"subscription:{subscription.pk}:created",
    )
    return subscription


@transaction.atomic
def subscription_toggle_pause(*, supporter, thing: Thing) -> Subscription:
    """Pause an active subscription or resume a paused one."""
    subscription = _live_subscription(supporter=supporter, thing=thing, lock=True)
    subscription.status = (
        SubscriptionStatus.ACTIVE
        if subscription.status == SubscriptionStatus.PAUSED
        else SubscriptionStatus.PAUSED
    )
    subscription.save(update_fields=["status", "updated_at"])
    return subscription


@transaction.atomic
def subscription_cancel(*, supporter, thing: Thing) -> None:
    """End a subscription; the flattrs it already made stay."""
    subscription = _live_subscription(supporter=supporter, thing=thing, lock=True)
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.save(update_fields=["status", "updated_at"])


def subscriptions_cancel_all(*, supporter) -> int:
    """End every live subscription of ``supporter`` (account deletion),
    inside the caller's transaction. Returns how many were cancelled."""
    return (
        Subscription.objects.filter(supporter=supporter)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .update(status=SubscriptionStatus.CANCELLED, updated_at=timezone.now())
    )
