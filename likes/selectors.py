"""Reads for polling: the monthly cap and what is due for a poll (the
supporter's pages read through ``likes.overview``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet

from likes.models import AccountStatus, ConnectedAccount, Like, LikeSettings, LikeState


def likes_cap(*, user_id: int) -> int:
    """How many likes a month become flattrs for this supporter."""
    own = LikeSettings.objects.filter(user_id=user_id).values_list("likes_per_month", flat=True)
    value = own.first()
    return settings.FLATTR_LIKES_PER_MONTH if value is None else value


def likes_flattred_count(*, user_id: int, period: dt.date) -> int:
    """Like-flattrs of the supporter in ``period`` (what the cap counts)."""
    return Like.objects.filter(
        supporter_id=user_id, state=LikeState.FLATTRED, period=period
    ).count()


def accounts_due(*, now: dt.datetime) -> QuerySet[ConnectedAccount]:
    """Enabled accounts whose next poll is due and that are not backing off,
    earliest first (the partial index ``connected_account_due``)."""
    return (
        ConnectedAccount.objects.filter(
            enabled=True,
            status__in=[AccountStatus.ACTIVE, AccountStatus.ERROR],
            next_poll_at__lte=now,
        )
        .filter(Q(backoff_until__isnull=True) | Q(backoff_until__lte=now))
        .order_by("next_poll_at", "id")
    )
