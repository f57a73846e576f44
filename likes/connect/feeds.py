"""Adding a feed of likes: the address is fetched once through the safe
fetcher and must parse as RSS or Atom (feedparser) or JSON Feed before
anything is saved."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import feedparser
from django.utils.translation import gettext as _

from accounts.models import User
from core.fetch import FetchError, fetch
from likes.connect import ConnectError, fetch_problem, host_of
from likes.connect.accounts import account_store, account_take_baseline
from likes.models import AccountKind, AccountStatus, ConnectedAccount

log = logging.getLogger("likes.connect")

FEED_MAX_BYTES = 2 * 1024 * 1024
FEED_TIMEOUT = 10.0
JSON_FEED_VERSION = "https://jsonfeed.org/version/"


@dataclass
class FeedSummary:
    title: str
    format: str  # "rss20", "atom10", "json1", ...
    entries: int


def feed_url_normalise(raw: str) -> str:
    text = (raw or "").strip()
    if text and "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or len(text) > 1000 or any(c.isspace() for c in text):
        raise ConnectError("bad_url", _("Enter the full address of a feed (https://…)."))
    return text


def feed_parse(body: bytes, content_type: str = "") -> FeedSummary | None:
    """The feed in ``body``, or None when it is not a feed."""
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not (
            isinstance(data, dict)
            and str(data.get("version", "")).startswith(JSON_FEED_VERSION)
            and isinstance(data.get("items"), list)
        ):
            return None
        version = "json" + str(data["version"]).removeprefix(JSON_FEED_VERSION).replace(".", "")
        return FeedSummary(str(data.get("title") or "")[:200], version, len(data["items"]))
    parsed = feedparser.parse(body, response_headers={"content-type": content_type})
    if not parsed.get("version"):
        return None
    return FeedSummary(
        str(parsed.feed.get("title") or "")[:200], parsed.version, len(parsed.entries)
    )


def feed_connect(*, user: User, url: str) -> ConnectedAccount:
    url = feed_url_normalise(url)
    host = host_of(url)
    if (
        ConnectedAccount.objects.filter(user=user, kind=AccountKind.FEED, url=url)
        .exclude(status=AccountStatus.DISCONNECTED)
        .exists()
    ):
        raise ConnectError("duplicate", _("This feed is already connected."))
    try:
        response = fetch(
            url,
            headers={
                "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
                "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8"
            },
            max_bytes=FEED_MAX_BYTES,
            total_timeout=FEED_TIMEOUT,
        )
    except FetchError as error:
        log.warning("feed %s refused: %s (%s)", host, error.code, error.reason)
        raise fetch_problem(error, host) from error
    if not response.ok:
        log.warning("feed %s answered %s", host, response.status)
        raise ConnectError(
            "status",
            _("%(host)s answered with an error (HTTP %(status)s).")
            % {"host": host, "status": response.status},
        )
    summary = feed_parse(response.body, response.headers.get("Content-Type", ""))
    if summary is None:
        log.warning("feed %s is not a feed (%s)", host, response.headers.get_content_type())
        raise ConnectError(
            "not_a_feed",
            _("The page at %(host)s is not a feed (RSS, Atom or JSON Feed).") % {"host": host},
        )
    account = account_store(
        user=user,
        kind=AccountKind.FEED,
        url=url,
        remote_id="",
        remote_login=summary.title or host,
    )
    account_take_baseline(account=account)
    return account
