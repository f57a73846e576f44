import datetime as dt
from collections import Counter

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from accounts.models import User
from buttons import rules
from buttons.models import Flattr, Subscription, SubscriptionStatus, Thing
from buttons.services import current_period
from core.languages import language_name


def visible_things() -> QuerySet[Thing]:
    """Things shown in lists (explore, profiles, funding.json): not hidden,
    removed, unlisted, nor a supporter's submission its creator has not
    accepted yet."""
    return Thing.objects.filter(hidden=False, removed=False, unlisted=False, pending=False)


def things_of_owner(*, owner: User, pending: bool = False) -> QuerySet[Thing]:
    """The owner's things (those supporters submitted and she has not
    accepted yet with ``pending``), newest first, with their counts."""
    period = current_period()
    return (
        Thing.objects.filter(owner=owner, removed=False, pending=pending)
        .select_related("submitted_by")
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


def flattr_this_month(*, supporter: User | AnonymousUser, thing_id: int) -> Flattr | None:
    """The supporter's flattr of ``thing_id`` in the current month, if any."""
    if not isinstance(supporter, User):  # AnonymousUser
        return None
    return Flattr.objects.filter(
        supporter=supporter, thing_id=thing_id, period=current_period()
    ).first()


def counted_flattrs(*, supporter: User, period: dt.date | None = None) -> QuerySet:
    """The supporter's flattrs of ``period`` (default: this month) that the
    monthly split will count: never their own, hidden or removed things
    (the rule: ``buttons.rules.flattr_counts``)."""
    return rules.counted(
        Flattr.objects.filter(supporter=supporter, period=period or current_period()),
        supporter=supporter,
    )


def public_supporters(*, thing: Thing, limit: int = 20) -> list:
    """Supporters who chose to show their flattrs, newest first (distinct)."""
    from accounts.models import User

    ids = (
        thing.flattrs.filter(supporter__flattrs_public=True, supporter__deleted_at__isnull=True)
        .order_by("-created_at")
        .values_list("supporter_id", flat=True)
    )
    seen: list[int] = []
    for pk in ids[: limit * 4]:
        if pk not in seen:
            seen.append(pk)
        if len(seen) >= limit:
            break
    people = User.objects.in_bulk(seen)
    return [people[pk] for pk in seen if pk in people]


def flattrs_of_supporter(*, supporter: User) -> QuerySet:
    """All the supporter's flattrs, newest first, with their things."""
    return (
        Flattr.objects.filter(supporter=supporter)
        .select_related("thing", "thing__owner")
        .order_by("-period", "-created_at", "-id")
    )


def subscriptions_for(*, user: User) -> QuerySet[Subscription]:
    """The user's subscriptions that are not cancelled, newest first."""
    return (
        Subscription.objects.filter(supporter=user)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .select_related("thing", "thing__owner")
        .order_by("-created_at", "-id")
    )


def flattr_counts(*, thing_ids: list[int], period: dt.date) -> list[tuple[int, int]]:
    """(thing id, flattrs in ``period``) for the given things, one query."""
    return list(
        Flattr.objects.filter(thing_id__in=thing_ids, period=period)
        .values("thing_id")
        .annotate(n=Count("id"))
        .values_list("thing_id", "n")
    )


def things_search(*, words: str = "", category: str = "", language: str = "") -> QuerySet[Thing]:
    """Visible things matching every word (in title, description or tags),
    optionally of one category and language; newest first."""
    qs = visible_things().select_related("owner")
    for word in words.split()[:8]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(description__icontains=word) | Q(tags__icontains=word)
        )
    if category:
        qs = qs.filter(category=category)
    if language:
        qs = qs.filter(language__iexact=language)
    return qs.order_by("-created_at", "-id")


def thing_languages() -> list[str]:
    """Languages visible things declare, for the explore filter (cached)."""
    languages = cache.get("explore:languages")
    if languages is None:
        languages = sorted(
            {
                code.lower()
                for code in visible_things()
                .exclude(language="")
                .values_list("language", flat=True)
                .distinct()[:200]
            }
        )
        cache.set("explore:languages", languages, 300)
    return languages


def thing_language_choices() -> list[tuple[str, str]]:
    """The explore filter's options: (code, name in the active language),
    by name; the code stays what URLs and the API carry. Two codes with one
    name ("en_gb" and "en") tell themselves apart by their code."""
    named = [(code, language_name(code)) for code in thing_languages()]
    counts = Counter(name for _code, name in named)
    return sorted(
        ((code, f"{name} ({code})" if counts[name] > 1 else name) for code, name in named),
        key=lambda choice: choice[1].casefold(),
    )
