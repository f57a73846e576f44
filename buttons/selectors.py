from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from buttons.models import Subscription, SubscriptionStatus, Thing
from buttons.services import current_period


def visible_things() -> QuerySet[Thing]:
    """Things shown in lists (explore, profiles): not hidden, removed or
    unlisted."""
    return Thing.objects.filter(hidden=False, removed=False, unlisted=False)


def things_of_owner(*, owner) -> QuerySet[Thing]:
    period = current_period()
    return (
        Thing.objects.filter(owner=owner, removed=False)
        .annotate(
            month_count=Count("flattrs", filter=Q(flattrs__period=period)),
            total_count=Count("flattrs"),
        )
        .order_by("-created_at")
    )


def most_flattred_ids(*, category: str = "", limit: int = 500) -> list[int]:
    """This month's most flattred visible things (ids), cached for a minute:
    the aggregate is the only heavy query of the public pages."""
    period = current_period()
    key = f"explore:top:{period:%Y-%m}:{category}"
    ids = cache.get(key)
    if ids is None:
        qs = visible_things().filter(flattrs__period=period)
        if category:
            qs = qs.filter(category=category)
        ids = list(
            qs.annotate(month_count=Count("flattrs"))
            .order_by("-month_count", "-id")
            .values_list("id", flat=True)[:limit]
        )
        cache.set(key, ids, 60)
    return ids


def newest_things(*, category: str = "") -> QuerySet[Thing]:
    qs = visible_things().select_related("owner").order_by("-created_at", "-id")
    return qs.filter(category=category) if category else qs


def subscriptions_for(*, user) -> QuerySet[Subscription]:
    """The user's subscriptions that are not cancelled, newest first."""
    return (
        Subscription.objects.filter(supporter=user)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .select_related("thing", "thing__owner")
        .order_by("-created_at", "-id")
    )
