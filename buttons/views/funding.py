"""Open funding standards spoken by the buttons: oEmbed, funding.json,
WebFinger, and rel="payment" (head links come from the ``funding`` template
tags; the ``Link`` header from ``buttons.middleware.PaymentLinkMiddleware``)."""

import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.selectors import user_by_username
from buttons import classic_selectors, selectors
from buttons.creator_links import creator_links
from buttons.models import Thing
from core.db_router import replica_reads

EMBED_SIZES = {"default": (74, 66), "compact": (112, 24)}
FUNDING_JSON_VERSION = "v1.1.0"
FUNDING_JSON_SCHEMA = "https://fundingjson.org/schema/v1.1.0.json"
GUID_SAFE = re.compile(r"[^a-z0-9-]+")


def _cors_json(data: dict, *, status: int = 200, content_type: str = "application/json"):
    response = JsonResponse(data, status=status, content_type=content_type)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(status: int, error: str, message: str):
    return _cors_json({"error": error, "message": message}, status=status)


def _our_page(url: str):
    """(thing, user) named by one of our thing or profile URLs, or Nones."""
    parts = urlsplit(url)
    ours = urlsplit(settings.SITE_URL)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != ours.netloc.lower():
        return None, None
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return None, None
    if match.url_name in ("thing_detail", "classic_thing"):
        thing = Thing.objects.select_related("owner").filter(pk=match.kwargs["pk"]).first()
        if thing is not None and not (thing.hidden or thing.removed):
            return thing, None
    elif match.url_name in ("profile", "classic_profile"):
        return None, user_by_username(username=match.kwargs["username"])
    return None, None


@replica_reads
@require_GET
@cache_control(public=True, max_age=300)
def oembed(request):
    """oEmbed provider (oembed.com, section 2): a ``rich`` button for one of
    our thing or profile pages."""
    url = request.GET.get("url", "").strip()
    fmt = request.GET.get("format", "json")
    if fmt != "json":
        return _error(501, "format_not_implemented", "Only format=json is served.")
    if not url:
        return _error(400, "missing_url", "Give the url of a thing or profile page.")
    thing, user = _our_page(url)
    if thing is None and user is None:
        return _error(404, "not_found", "That URL is not a thing or profile page here.")
    style = "default"
    try:
        int(request.GET.get("maxwidth") or 0)  # validated; any width fits a button
        maxheight = int(request.GET.get("maxheight") or 0)
    except ValueError:
        return _error(400, "bad_size", "maxwidth and maxheight are whole numbers.")
    # The compact button is the low one (it is wider): for a short slot.
    if maxheight and maxheight < EMBED_SIZES["default"][1]:
        style = "compact"
    width, height = EMBED_SIZES[style]
    if thing is not None:
        src = classic_selectors.absolute(
            reverse("embed", args=[thing.pk]) + ("?style=compact" if style == "compact" else "")
        )
        title = thing.title
        author = thing.owner
    else:
        from urllib.parse import urlencode

        page = classic_selectors.absolute(reverse("profile", args=[user.username]))
        query = {"uid": user.username, "url": page, "title": user.public_name, "category": "people"}
        if style == "compact":
            query["button"] = "compact"
        src = classic_selectors.absolute(reverse("classic_button_view") + "?" + urlencode(query))
        title = user.public_name
        author = user
    html = (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="Flattr: {escape(title)}"'
        ' style="border:0;overflow:hidden" scrolling="no" loading="lazy"></iframe>'
    )
    data = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Open Flattr",
        "provider_url": settings.SITE_URL + "/",
        "title": title,
        "html": html,
        "width": width,
        "height": height,
        "cache_age": 300,
    }
    if author is not None:
        data["author_name"] = author.public_name
        data["author_url"] = classic_selectors.absolute(author.get_absolute_url())
    return _cors_json(data, content_type="application/json; charset=utf-8")


def _guid(prefix: str, value: str) -> str:
    return (prefix + GUID_SAFE.sub("-", value.lower()).strip("-"))[:32].strip("-")


# funding.json as the reference validator (floss-fund/go-funding-json) reads
# it: lengths are UTF-8 bytes, at most 30 projects, 1-5 licenses and 1-10
# tags each, and a URL on another host (or outside the manifest's path)
# comes with a ``wellKnown`` URL on that host.
FUNDING_MAX_PROJECTS = 30
FUNDING_MAX_URL = 250
WELL_KNOWN_PATH = "/.well-known/funding-manifest-urls"
# SPDX's word for "nobody said": we do not know the things' licenses.
UNKNOWN_LICENSE = "NOASSERTION"
TAG_SAFE = re.compile(r"[^a-z0-9]+")


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore").rstrip()


def _tags(thing: Thing) -> list[str]:
    tags = [thing.category]
    for raw in thing.tags.split(","):
        # Accents dropped (ü is u), other letters too: tags are [a-z0-9-].
        folded = unicodedata.normalize("NFKD", raw.strip().lower())
        ascii_only = folded.encode("ascii", "ignore").decode()
        tag = TAG_SAFE.sub("-", ascii_only).strip("-")[:32].strip("-")
        if len(tag) >= 2 and tag not in tags:
            tags.append(tag)
    return tags[:10]


def _path_dir(path: str) -> str:
    return path.removesuffix("funding.json").rstrip("/") + "/"


def _proven_url(url: str, manifest_url: str) -> dict | None:
    """``{"url"}`` plus ``wellKnown`` where the validator needs it (another
    host, or a path the manifest's does not cover); None for a URL it would
    refuse (not http(s), no host, over 250 bytes)."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not 10 <= len(url.encode("utf-8")) <= FUNDING_MAX_URL
    ):
        return None
    manifest = urlsplit(manifest_url)
    target_dir, manifest_dir = _path_dir(parts.path), _path_dir(manifest.path)
    covered = parts.netloc == manifest.netloc and (
        manifest_dir == "/"
        or target_dir.startswith(manifest_dir)
        or manifest_dir.startswith(target_dir)
    )
    if covered:
        return {"url": url}
    # The creator proves the thing theirs by listing this manifest's URL
    # in that file on their own site (docs/api.md).
    return {"url": url, "wellKnown": f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}"}


def _description(text: str, fallback: str) -> str:
    text = _cut(text.strip(), 2000)
    return text if len(text.encode("utf-8")) >= 5 else _cut(fallback, 2000)


@replica_reads
@require_GET
@cache_control(public=True, max_age=300)
def funding_json(request, username: str):
    """The creator's funding.json (fundingjson.org v1.1.0, valid for the
    reference validator too): their newest things as projects (the profile
    page when they have none), this platform as the payment channel."""
    user = user_by_username(username=username)
    if user is None:
        return _error(404, "not_found", "No creator has that name here.")
    name = user.public_name
    manifest_url = classic_selectors.absolute(reverse("funding_json", args=[user.username]))
    profile_url = classic_selectors.absolute(user.get_absolute_url())
    projects = []
    for thing in (
        selectors.visible_things()
        .filter(owner=user)
        .order_by("-created_at", "-pk")[: FUNDING_MAX_PROJECTS * 2]
    ):
        page = _proven_url(thing.url, manifest_url)
        if page is None:
            continue
        title = _cut(thing.title.strip(), 250) or f"thing-{thing.pk}"
        projects.append(
            {
                "guid": f"thing-{thing.pk}",
                "name": title,
                "description": _description(
                    thing.description, f"{title}, by {name}, on Open Flattr."
                ),
                "webpageUrl": page,
                "repositoryUrl": page,
                "licenses": [UNKNOWN_LICENSE],
                "tags": _tags(thing),
            }
        )
        if len(projects) == FUNDING_MAX_PROJECTS:
            break
    if not projects:
        # The validator wants at least one project: the person's work as a whole.
        projects.append(
            {
                "guid": "profile",
                "name": _cut(name, 250),
                "description": _cut(f"What {name} publishes, supported on Open Flattr.", 2000),
                "webpageUrl": {"url": profile_url},
                "repositoryUrl": {"url": profile_url},
                "licenses": [UNKNOWN_LICENSE],
                "tags": ["people"],
            }
        )
    contact = getattr(settings, "FLATTR_CONTACT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    contact = contact.split("<")[-1].rstrip(">").strip()
    entity_name = _cut(name, 250)
    if len(entity_name.encode("utf-8")) < 2:
        entity_name = _cut(f"{entity_name} ({user.username})", 250)
    data = {
        "$schema": FUNDING_JSON_SCHEMA,
        "version": FUNDING_JSON_VERSION,
        "entity": {
            "type": "individual",
            "role": "owner",
            "name": entity_name,
            # People's own addresses stay private: the platform relays.
            "email": contact[:250],
            "description": _description(getattr(user, "bio", "") or "", f"{name} on Open Flattr."),
            "webpageUrl": {"url": profile_url[:250]},
        },
        "projects": projects,
        "funding": {
            "channels": [
                {
                    "guid": "open-flattr",
                    "type": "payment-provider",
                    "address": _cut(classic_selectors.profile_payment_url(user=user), 250),
                    "description": (
                        "Flattr: supporters set a monthly budget that is split equally among "
                        "the things they flattr."
                    ),
                }
            ],
            "plans": [
                {
                    "guid": "flattr-monthly",
                    "status": "active",
                    "name": "Flattr",
                    "description": "Any share of a supporter's monthly Flattr budget.",
                    "amount": 0,
                    "currency": settings.CURRENCY,
                    "frequency": "monthly",
                    "channels": ["open-flattr"],
                }
            ],
        },
    }
    return _cors_json(data)


WEBFINGER_PROFILE = "http://webfinger.net/rel/profile-page"


@replica_reads
@require_GET
def webfinger(request):
    """WebFinger (RFC 7033) for ``acct:username@our-host``: the profile page
    and the rel="payment" link."""
    resource = request.GET.get("resource", "").strip()
    if not resource:
        return _error(400, "missing_resource", "Give resource=acct:username@host.")
    name = host = ""
    if resource.startswith("acct:") and "@" in resource:
        name, _, host = resource[len("acct:") :].rpartition("@")
    else:
        thing, user = _our_page(resource)
        if user is not None:
            name, host = user.username, urlsplit(settings.SITE_URL).netloc
    if not name:
        return _error(400, "bad_resource", "The resource must be acct:username@host.")
    ours = {urlsplit(settings.SITE_URL).netloc.lower(), request.get_host().lower()}
    user = user_by_username(username=name)
    if host.lower() not in ours or user is None:
        return _error(404, "not_found", "No one has that address here.")
    profile_url = classic_selectors.absolute(user.get_absolute_url())
    links = [
        {"rel": WEBFINGER_PROFILE, "type": "text/html", "href": profile_url},
        {"rel": "payment", "href": classic_selectors.profile_payment_url(user=user)},
        {
            "rel": "describedby",
            "type": "application/json",
            "href": classic_selectors.absolute(reverse("funding_json", args=[user.username])),
        },
    ]
    links += [{"rel": "me", "href": site} for site in _verified_me_links(user)]
    links += [{"rel": "me", "href": link.href} for link in creator_links(user_id=user.pk)]
    data = {
        "subject": f"acct:{user.username}@{urlsplit(settings.SITE_URL).netloc}",
        "aliases": [profile_url],
        "links": links,
    }
    rels = request.GET.getlist("rel")
    if rels:
        data["links"] = [link for link in links if link["rel"] in rels]
    return _cors_json(data, content_type="application/jrd+json")


def _verified_me_links(user) -> list[str]:
    return [
        f"{site.scheme}://{site.host}{site.path_prefix or '/'}"
        for site in user.verified_sites.order_by("host")
    ]
