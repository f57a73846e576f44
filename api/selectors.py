"""Reads behind the API: things with their counts, search, flattr lists,
activities. Visibility follows the web pages: removed things are gone,
hidden things are left out of listings and search, and a supporter's
flattrs and name are shown only when they chose to make their flattrs
public (``flattrs_public``; anonymous by default) or to themselves."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from buttons.models import Flattr, Subscription, SubscriptionStatus, Thing
from buttons.services import current_period


def things_annotated(*, viewer: User | None = None, owner_fields: bool = False) -> QuerySet[Thing]:
    qs = (
        Thing.objects.filter(removed=False)
        .select_related("owner")
        .annotate(
            flattrs_n=Count("flattrs", distinct=True),
            users_n=Count("flattrs__supporter", distinct=True),
        )
    )
    if owner_fields:
        qs = qs.annotate(last_flattr=Max("flattrs__created_at"))
    if viewer is not None:
        qs = qs.annotate(
            flattred_now=Exists(
                Flattr.objects.filter(
                    thing=OuterRef("pk"), supporter=viewer, period=current_period()
                )
            ),
            subscribed_now=Exists(
                Subscription.objects.filter(thing=OuterRef("pk"), supporter=viewer).exclude(
                    status=SubscriptionStatus.CANCELLED
                )
            ),
        )
    return qs


def thing_get(*, pk: int, viewer: User | None = None) -> Thing | None:
    return things_annotated(viewer=viewer, owner_fields=viewer is not None).filter(pk=pk).first()


def thing_to_flattr(*, pk: int) -> Thing | None:
    """The thing a flattr names, without the counts (flattr_create checks
    the rest) with its owner, whom the answer names."""
    if pk >= 2**63:
        return None
    return Thing.objects.filter(pk=pk, removed=False).select_related("owner").first()


MARKS_TTL = 60


def marks_key(*, viewer_id: int, thing_id: int) -> str:
    return f"api:marks:{viewer_id}:{thing_id}"


# Not read from the cache yet (None is "read: missing").
UNREAD: Any = object()


def viewer_marks(*, thing_id: int, viewer: User, cached: Any = UNREAD) -> tuple[bool, bool]:
    """Whether ``viewer`` flattred the thing this month and is subscribed to
    it: one cache round trip (none when the caller read the entry with
    something else: ``cached``), or one query of two index probes on a
    miss. The entry goes when a flattr or subscription of the pair is saved
    or deleted (api.signals) and is tied to the month it was read in."""
    period = current_period()
    key = marks_key(viewer_id=viewer.pk, thing_id=thing_id)
    if cached is UNREAD:
        cached = cache.get(key)
    if isinstance(cached, tuple) and cached[0] == period:
        return cached[1], cached[2]
    marks = _viewer_marks(thing_id=thing_id, viewer=viewer)
    if cached is None:  # not a tombstone (api.signals): this read may stay
        cache.add(key, (period, *marks), MARKS_TTL)
    return marks


def _viewer_marks(*, thing_id: int, viewer: User) -> tuple[bool, bool]:
    row = Thing.objects.filter(pk=thing_id).values_list(
        Exists(Flattr.objects.filter(thing_id=thing_id, supporter=viewer, period=current_period())),
        Exists(
            Subscription.objects.filter(thing_id=thing_id, supporter=viewer).exclude(
                status=SubscriptionStatus.CANCELLED
            )
        ),
    )
    found = row.first()
    return (bool(found[0]), bool(found[1])) if found else (False, False)


def things_get_many(*, ids: list[int], viewer: User | None = None) -> list[Thing]:
    found = {t.pk: t for t in things_annotated(viewer=viewer).filter(pk__in=ids)}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def things_of_user(*, user: User, viewer: User | None = None) -> QuerySet[Thing]:
    qs = things_annotated(viewer=viewer, owner_fields=viewer is not None).filter(owner=user)
    if viewer is None or viewer.pk != user.pk:
        qs = qs.filter(hidden=False, unlisted=False, pending=False)
    return qs.order_by("-created_at", "-id")


def user_by_username(*, username: str) -> User | None:
    return User.objects.filter(username__iexact=username, is_active=True).first()


def thing_by_url(*, url: str, owner: User | None = None, any_owner: bool = True) -> Thing | None:
    """The thing registered for ``url``: the owner's when given, else the
    claimed one registered first, else the unclaimed one."""
    qs = Thing.objects.filter(removed=False, url=url)
    if not any_owner:
        qs = qs.filter(owner=owner) if owner is not None else qs.filter(owner__isnull=True)
    return qs.order_by(F("owner").asc(nulls_last=True), "id").first()


def _shown_to(viewer_id: int | None) -> Q:
    """Flattrs whose supporter may be named to ``viewer_id``."""
    public = Q(supporter__flattrs_public=True, supporter__deleted_at__isnull=True)
    return public | Q(supporter_id=viewer_id) if viewer_id else public


def flattrs_of_user(*, user: User, viewer_id: int | None = None) -> QuerySet[Flattr]:
    flattrs = (
        Flattr.objects.filter(supporter=user, thing__removed=False, thing__hidden=False)
        .select_related("supporter", "thing", "thing__owner")
        .order_by("-created_at", "-id")
    )
    return flattrs.filter(_shown_to(viewer_id))


def flattrs_of_thing(*, thing: Thing, viewer_id: int | None = None) -> QuerySet[Flattr]:
    return (
        Flattr.objects.filter(thing=thing)
        .filter(_shown_to(viewer_id))
        .select_related("supporter", "thing", "thing__owner")
        .order_by("-created_at", "-id")
    )


# --- Search -------------------------------------------------------------------


@dataclass
class TagQuery:
    any_of: list[list[str]]  # OR of AND groups
    none_of: list[str]


def tags_query_parse(value: str) -> TagQuery:
    """Flattr's tag syntax: ``|`` OR, ``&`` AND, ``!`` NOT. ``game | games !
    software`` is (game OR games) AND NOT software; a ``!`` term excludes
    whatever it follows."""
    tokens = re.findall(r"[|&!,]|[^|&!,]+", value)
    groups: list[list[str]] = [[]]
    none_of: list[str] = []
    negate = False
    for token in tokens:
        token = token.strip()
        if not token or token == ",":
            continue
        if token == "|":
            groups.append([])
        elif token == "&":
            continue
        elif token == "!":
            negate = True
        else:
            (none_of if negate else groups[-1]).append(token.lower())
            negate = False
    return TagQuery(any_of=[g for g in groups if g], none_of=none_of)


def _has_tag(tag: str) -> Q:
    return Q(tags__iregex=r"(^|,)\s*" + re.escape(tag) + r"\s*(,|$)")


SORTS = ("relevance", "trend", "flattrs", "flattrs_month", "flattrs_week", "flattrs_day")


def things_search(
    *,
    query: str = "",
    url: str = "",
    tags: str = "",
    languages: list[str] | None = None,
    categories: list[str] | None = None,
    username: str = "",
    sort: str = "relevance",
    viewer: User | None = None,
) -> QuerySet[Thing]:
    qs = things_annotated(viewer=viewer).filter(hidden=False, unlisted=False, pending=False)
    for word in query.split():
        qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word))
    if url:
        qs = qs.filter(url=url)
    if tags:
        parsed = tags_query_parse(tags)
        if parsed.any_of:
            any_q = Q()
            for group in parsed.any_of:
                group_q = Q()
                for tag in group:
                    group_q &= _has_tag(tag)
                any_q |= group_q
            qs = qs.filter(any_q)
        for tag in parsed.none_of:
            qs = qs.exclude(_has_tag(tag))
    if languages:
        qs = qs.filter(language__in=languages)
    if categories:
        qs = qs.filter(category__in=categories)
    if username:
        qs = qs.filter(owner__username__iexact=username)
    now = timezone.now()
    windows = {
        "flattrs_month": now - dt.timedelta(days=30),
        "flattrs_week": now - dt.timedelta(days=7),
        "flattrs_day": now - dt.timedelta(days=1),
        "trend": now - dt.timedelta(days=7),
    }
    if sort in windows:
        qs = qs.annotate(
            recent_n=Count("flattrs", filter=Q(flattrs__created_at__gte=windows[sort]))
        ).order_by("-recent_n", "-created_at", "-id")
    elif sort == "flattrs":
        qs = qs.order_by("-flattrs_n", "-created_at", "-id")  # type: ignore[misc]  # annotated by the caller
    else:
        qs = qs.order_by("-created_at", "-id")
    return qs


# --- Activities ----------------------------------------------------------------


def activities_of_user(
    *, user: User, incoming: bool, viewer_id: int | None = None, limit: int = 30
) -> list[tuple]:
    """(actor, verb, thing, when), newest first. Outgoing: what the user did
    (flattrs given, things added); incoming: flattrs on the user's things.
    Flattrs of anonymous supporters are left out (see ``_shown_to``)."""
    if incoming:
        flattrs = (
            Flattr.objects.filter(thing__owner=user, thing__removed=False)
            .filter(_shown_to(viewer_id))
            .select_related("supporter", "thing")
            .order_by("-created_at")[:limit]
        )
        return [(f.supporter, "like", f.thing, f.created_at) for f in flattrs]
    flattrs = flattrs_of_user(user=user, viewer_id=viewer_id)[:limit]
    things = Thing.objects.filter(
        owner=user, hidden=False, removed=False, unlisted=False, pending=False
    ).order_by("-created_at")[:limit]
    items = [(user, "like", f.thing, f.created_at) for f in flattrs]
    items += [(user, "post", t, t.created_at) for t in things]
    items.sort(key=lambda item: item[3], reverse=True)
    return items[:limit]


def flattr_counts(*, thing_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Flattr.objects.filter(thing_id__in=set(thing_ids))
        .values("thing_id")
        .annotate(n=Count("id"))
        .values_list("thing_id", "n")
    )
    return dict(rows)


def with_thing_counts(flattrs: list[Flattr]) -> list[Flattr]:
    """Attach each flattred thing's all-time count (``flattrs_n``)."""
    counts = flattr_counts(thing_ids=[f.thing_id for f in flattrs])
    for flattr in flattrs:
        flattr.thing.flattrs_n = counts.get(flattr.thing_id, 0)  # type: ignore[attr-defined]
    return flattrs


# --- The public thing, cached ----------------------------------------------------

PUBLIC_TTL = 30  # seconds, as the button's iframe


def thing_public(*, pk: int) -> Any:
    """The thing as anyone sees it, for GET /things/:id without a token:
    counts from buttons.counters (kept exact by the write path) and the rest
    from a fragment cached for PUBLIC_TTL seconds (cleared when the thing
    changes), in one cache round trip or none. None when there is no such
    thing."""
    from buttons import counters
    from buttons.services import current_period

    _month, total, fragment = counters.snapshot(thing_id=pk, period=current_period(), page="api")
    if fragment is None:
        thing = thing_get(pk=pk)
        if thing is None:
            return None
        fragment = PublicThing.from_thing(thing)
        cache.set(counters.page_key(pk, "api"), fragment, PUBLIC_TTL)
    fragment.flattrs_n = total  # type: ignore[attr-defined]  # a cached PublicThing
    return fragment


@dataclass
class PublicThing:
    """What representations.thing_json reads from a thing, picklable."""

    pk: int
    url: str
    title: str
    description: str
    tags: str
    language: str
    category: str
    created_at: dt.datetime
    hidden: bool
    unlisted: bool
    owner_id: int | None
    owner: PublicOwner | None
    users_n: int
    flattrs_n: int = 0
    updated_at: dt.datetime | None = None

    @classmethod
    def from_thing(cls, thing: Thing) -> PublicThing:
        owner = thing.owner
        return cls(
            pk=thing.pk,
            url=thing.url,
            title=thing.title,
            description=thing.description,
            tags=thing.tags,
            language=thing.language,
            category=thing.category,
            created_at=thing.created_at,
            hidden=thing.hidden,
            unlisted=thing.unlisted,
            owner_id=thing.owner_id,
            owner=PublicOwner.from_user(owner) if owner is not None else None,
            users_n=thing.users_n,  # type: ignore[attr-defined]  # annotated by thing_get
        )


@dataclass
class PublicOwner:
    pk: int
    username: str
    website: str
    display_name: str
    bio: str

    @classmethod
    def from_user(cls, user: User) -> PublicOwner:
        return cls(
            pk=user.pk,
            username=user.username,
            website=user.website,
            display_name=user.display_name,
            bio=user.bio,
        )
