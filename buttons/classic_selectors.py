"""Reads behind the classic Flattr doors (load.js buttons, /button/view/)
and the verified-site rule of auto-submit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from buttons.addresses import url_normalize
from buttons.models import THING_DESCRIPTION, Category, Thing, VerifiedSite
from core.http import whole_number

if TYPE_CHECKING:
    from accounts.models import User

CLASSIC_KEYS = frozenset(
    {
        *THING_DESCRIPTION,
        "uid",
        "owner",
        "user_id",
        "button",
        "hidden",
        "popout",
        "thing",
        "unknown",
        "style",
    }
)


def site_key(url: str) -> tuple[str, str]:
    """(host with a non-default port, path) of an http(s) URL, lower-cased host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host, parts.path or "/"


def verified_site_for_url(*, url: str) -> VerifiedSite | None:
    """The verified site covering ``url``, the longest path prefix winning."""
    host, _path = site_key(url)
    if not host:
        return None
    candidates = VerifiedSite.objects.filter(host=host).select_related("owner")
    return _best_site(url, candidates)


def _best_site(url: str, candidates: Iterable[VerifiedSite]) -> VerifiedSite | None:
    host, path = site_key(url)
    best = None
    for site in candidates:
        if site.host != host:
            continue
        covers = not site.path_prefix or path.startswith(site.path_prefix)
        if covers and (best is None or len(site.path_prefix) > len(best.path_prefix)):
            best = site
    return best


def verified_sites_for_urls(*, urls: Iterable[str]) -> dict[str, VerifiedSite | None]:
    """``verified_site_for_url`` for many addresses in one query."""
    urls = list(urls)
    hosts = {site_key(url)[0] for url in urls} - {""}
    sites = list(VerifiedSite.objects.filter(host__in=hosts)) if hosts else []
    return {url: _best_site(url, sites) for url in urls}


@dataclass
class ClassicButton:
    """What a classic button definition resolves to."""

    url: str
    title: str
    owner: object | None  # a User, or None: unclaimed, waiting for its creator
    named_uid: str  # the uid the snippet gave, even if nobody here has it
    fields: dict
    thing: Thing | None
    style: str
    unknown: list[str]
    problem: str = ""  # why the button cannot work, for people


def classic_button_resolve(*, params: Mapping[str, str]) -> ClassicButton:
    """Turn a classic parameter set (load.js, /button/view/) into a button.

    An unknown uid is not an error: the thing waits unclaimed for its creator
    (who proves it is theirs with a claim). A verified site's owner takes the
    things under their site whatever the snippet says.
    """
    from accounts.selectors import user_by_username

    get = params.get
    style = "compact" if (get("button") or get("style")) == "compact" else "default"
    unknown = [k for k in (get("unknown") or "").split(",") if k]
    unknown += [k for k in params if k not in CLASSIC_KEYS]
    uid = (get("uid") or get("owner") or get("user_id") or "").strip()[:40]
    url = (get("url") or "").strip()[:1000]
    thing = None
    thing_id = whole_number(get("thing") or "")
    if thing_id is not None:
        thing = Thing.objects.select_related("owner").filter(pk=thing_id).first()
        if thing is not None:
            url = thing.url
    category = get("category") or ""
    if category not in Category.values:
        category = Category.REST
    hidden = (get("hidden") or "").lower() in {"1", "true", "yes"}
    title = (get("title") or "").strip()[:200] or url[:200]
    button = ClassicButton(
        url=url,
        title=title,
        owner=None,
        named_uid=uid,
        fields={
            "description": (get("description") or "").strip()[:2000],
            "category": category,
            "tags": (get("tags") or "").strip()[:300],
            "language": (get("language") or "").strip()[:16],
            "hidden": hidden,
        },
        thing=thing,
        style=style,
        unknown=sorted(set(unknown)),
    )
    if not url:
        button.problem = str(_("This button names no URL, so there is nothing to flattr."))
        return button
    if not url.lower().startswith(("http://", "https://")) or not urlsplit(url).hostname:
        button.problem = str(_("Only http and https addresses can be flattred."))
        return button
    try:
        button.url = url = url_normalize(url)
    except ValidationError as exc:
        button.problem = " ".join(exc.messages)
        return button
    if uid:
        button.owner = user_by_username(username=uid)
    site = verified_site_for_url(url=url)
    if site is not None:
        button.owner = site.owner
    if button.thing is None:
        owned = Q(owner=button.owner) if button.owner is not None else Q(owner__isnull=True)
        button.thing = Thing.objects.select_related("owner").filter(owned, url=url).first()
    return button


# --- Funding standards: the URLs other software follows --------------------


def absolute(path: str) -> str:
    from django.conf import settings

    return settings.SITE_URL + path


def thing_payment_url(*, thing: Thing) -> str:
    """The auto-submit URL of a thing: what rel="payment" points at."""
    from urllib.parse import urlencode

    from django.urls import reverse

    params = {"url": thing.url, "title": thing.title}
    if thing.owner is not None:
        params = {"user_id": thing.owner.username, **params}
    if thing.category:
        params["category"] = thing.category
    return absolute(reverse("auto_submit") + "?" + urlencode(params))


def profile_payment_url(*, user: User) -> str:
    """The auto-submit URL of a creator's profile page (flattr the person)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    params = {
        "user_id": user.username,
        "url": absolute(reverse("profile", args=[user.username])),
        "title": getattr(user, "public_name", "") or user.username,
        "category": Category.PEOPLE,
    }
    return absolute(reverse("auto_submit") + "?" + urlencode(params))


def oembed_endpoint_for(*, page_url: str) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return absolute(reverse("oembed") + "?" + urlencode({"url": page_url, "format": "json"}))
