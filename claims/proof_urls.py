"""Which account made a URL: the address forms of fediverse posts and
GitHub repositories, read from the URL alone (no fetch).

A post's address names its author on Mastodon, GoToSocial, Akkoma and
Pixelfed; Pleroma's ``/notice/ID``, ``/objects/UUID`` and Misskey's
``/notes/ID`` do not, so those are nobody's here (a fetch would tell, and
this must stay one query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import Q

from buttons.classic_selectors import site_key

_NAME = r"(?P<name>[^/@?#]+)"
# Paths whose first segments name the author. Each matches the profile
# itself and everything under it (a post, its embed, its activity).
FEDIVERSE_PATHS = [
    # Mastodon, GoToSocial, Akkoma web pages: /@name, /@name/123,
    # /@name/statuses/ID (GoToSocial). Not /@name@other.host/123: that is
    # a remote account seen through this instance.
    re.compile(rf"^(?:/web|/deck)?/@{_NAME}(?:/|$)"),
    # ActivityPub ids (Mastodon, GoToSocial, Pleroma, Akkoma):
    # /users/name, /users/name/statuses/123.
    re.compile(rf"^/users/{_NAME}(?:/|$)"),
    # Pixelfed posts: /p/name/123.
    re.compile(rf"^/p/{_NAME}/"),
]
# Exact prefixes for the database prefilter of the same forms; ``{}`` is
# the name. (Also matched against the patterns above in Python.)
FEDIVERSE_PREFIXES = ["/@{}/", "/web/@{}/", "/deck/@{}/", "/users/{}/", "/p/{}/"]
FEDIVERSE_EXACT = ["/@{}", "/users/{}"]

_GITHUB_PATH = re.compile(r"^/(?P<name>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?:/|$)")


@dataclass(frozen=True)
class AccountRef:
    kind: str  # a ProofKind value
    host: str
    username: str  # lower case


def github_hosts() -> set[str]:
    """Web hosts of the configured GitHub: github.com, or the Enterprise
    host of ``GITHUB_API_URL`` (``https://ghe.example/api/v3``) and of
    ``GITHUB_OAUTH_URL``."""
    hosts = set()
    for url in (settings.GITHUB_API_URL, settings.GITHUB_OAUTH_URL):
        host, _path = site_key(url)
        if host == "api.github.com":
            host = "github.com"
        if host:
            hosts.add(host)
    return hosts


def github_host() -> str:
    """The web host a GitHub login's pages live on."""
    host, _path = site_key(settings.GITHUB_API_URL)
    return "github.com" if host in ("api.github.com", "") else host


def fediverse_names(path: str) -> list[str]:
    """The author names a fediverse address's path may carry, lower case."""
    names = []
    for pattern in FEDIVERSE_PATHS:
        match = pattern.match(path)
        if match:
            names.append(unquote(match.group("name")).lower())
    return names


def accounts_for_url(url: str) -> tuple[str, list[AccountRef]]:
    """(host, the accounts that may have made ``url``), most specific first."""
    try:
        host, path = site_key(url)
    except ValueError:
        return "", []
    if not host or urlsplit(url).scheme.lower() not in ("http", "https"):
        return "", []
    if host in github_hosts():
        match = _GITHUB_PATH.match(path)
        if not match:
            return host, []
        return host, [AccountRef("github", host, match.group("name").lower())]
    return host, [AccountRef("fediverse", host, name) for name in fediverse_names(path)]


def account_things_filter(*, kind: str, host: str, username: str) -> Q:
    """A prefilter on ``Thing.url`` for the addresses an account made
    (either scheme, the name in any case); confirm each with
    :func:`accounts_for_url`."""
    if kind == "github":
        prefixes, exact = ["/{}/"], ["/{}"]
    else:
        prefixes, exact = FEDIVERSE_PREFIXES, FEDIVERSE_EXACT
    q = Q()
    for scheme in ("http", "https"):
        root = f"{scheme}://{host}"
        for prefix in prefixes:
            q |= Q(url__istartswith=root + prefix.format(username))
        for path in exact:
            q |= Q(url__iexact=root + path.format(username))
    return q
