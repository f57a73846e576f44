"""The JSON shapes of Flattr's API v2 (developers.flattr.net, lib/flattr.rb),
built as plain dicts: the read path stays cheap."""

from __future__ import annotations

import datetime as dt
import functools

from django.urls import reverse

from api.scopes import EMAIL, EXTENDEDREAD


@functools.cache
def _profile_path() -> str:
    return reverse("profile", kwargs={"username": "__username__"})


def unix(when: dt.datetime | None) -> int:
    return int(when.timestamp()) if when else 0


class Urls:
    """Absolute URLs for one request, computed once."""

    def __init__(self, request):
        self.base = f"{request.scheme}://{request.get_host()}"
        self.api = self.base + "/rest/v2"

    def thing_resource(self, pk: int) -> str:
        return f"{self.api}/things/{pk}"

    def thing_link(self, pk: int) -> str:
        return f"{self.base}/things/{pk}/"

    def user_resource(self, username: str) -> str:
        return f"{self.api}/users/{username}"

    def user_link(self, username: str) -> str:
        return self.base + _profile_path().replace("__username__", username)


def mini_user(user, urls: Urls) -> dict:
    return {
        "type": "user",
        "resource": urls.user_resource(user.username),
        "link": urls.user_link(user.username),
        "username": user.username,
    }


def user_json(user, urls: Urls, *, scopes: frozenset[str] = frozenset()) -> dict:
    """A full user; ``scopes`` are those of the caller's token on its own
    account (empty for anyone else)."""
    data = {
        **mini_user(user, urls),
        "url": user.website,
        "firstname": user.display_name,
        "lastname": "",
        "avatar": "",
        "about": user.bio,
        "city": "",
        "country": "",
    }
    if scopes & {EMAIL, EXTENDEDREAD}:
        data["email"] = user.email
    if EXTENDEDREAD in scopes:
        data["registered_at"] = unix(user.date_joined)
    return data


def owner_json(owner, urls: Urls, *, full: bool) -> dict | None:
    if owner is None:
        return None
    return user_json(owner, urls) if full else mini_user(owner, urls)


def tags_list(tags: str) -> list[str]:
    return [t.strip() for t in (tags or "").split(",") if t.strip()]


def thing_json(thing, urls: Urls, *, viewer=None, full: bool = False) -> dict:
    """A thing; the queryset annotates ``flattrs_n``, ``users_n`` and, for a
    signed-in caller, ``flattred_now`` and ``subscribed_now``
    (api.selectors.things_annotated)."""
    data = {
        **mini_thing(thing, urls, full=full),
        "flattrs_user_count": getattr(thing, "users_n", 0),
        "description": thing.description,
        "tags": tags_list(thing.tags),
        "language": thing.language,
        "category": thing.category,
        "created_at": unix(thing.created_at),
        "hidden": thing.hidden or thing.unlisted,
    }
    if viewer is not None:
        data["flattred"] = bool(getattr(thing, "flattred_now", False))
        data["subscribed"] = bool(getattr(thing, "subscribed_now", False))
        if thing.owner_id is not None and thing.owner_id == viewer.pk:
            data["last_flattr_at"] = unix(getattr(thing, "last_flattr", None))
            data["updated_at"] = unix(thing.updated_at)
    return data


def mini_thing(thing, urls: Urls, *, full: bool = False) -> dict:
    return {
        "type": "thing",
        "resource": urls.thing_resource(thing.pk),
        "link": urls.thing_link(thing.pk),
        "id": thing.pk,
        "url": thing.url,
        "title": thing.title,
        "image": "",
        "flattrs": getattr(thing, "flattrs_n", 0),
        "owner": owner_json(thing.owner, urls, full=full),
    }


def flattr_json(flattr, urls: Urls, *, full: bool = False) -> dict:
    return {
        "type": "flattr",
        "thing": mini_thing(flattr.thing, urls),
        "owner": owner_json(flattr.supporter, urls, full=full),
        "created_at": unix(flattr.created_at),
    }


def subscription_json(subscription, urls: Urls, *, viewer) -> dict:
    from buttons.models import SubscriptionStatus

    return {
        "type": "subscription",
        "active": subscription.status == SubscriptionStatus.ACTIVE,
        "created_at": unix(subscription.created_at),
        "started_at": unix(subscription.created_at),
        "months": subscription.months,
        "months_remaining": subscription.months_remaining,
        "thing": thing_json(subscription.thing, urls, viewer=viewer),
    }


def activity_json(*, actor, verb: str, thing, when: dt.datetime, urls: Urls, host: str) -> dict:
    """One Activity Streams 1.0 (JSON) item, as Flattr published them."""
    title = {"like": "%s flattred “%s”", "post": "%s added “%s”"}[verb] % (
        actor.username,
        thing.title,
    )
    return {
        "published": when.isoformat(),
        "title": title,
        "actor": {
            "displayName": actor.username,
            "url": urls.user_link(actor.username),
            "objectType": "person",
        },
        "verb": verb,
        "object": {
            "displayName": thing.title,
            "url": urls.thing_link(thing.pk),
            "objectType": "bookmark",
        },
        "id": f"tag:{host},{when:%Y-%m-%d}:{actor.username}/{'flattr' if verb == 'like' else 'thing'}/{thing.pk}",
    }
