"""Favourites of a Mastodon-compatible account (Mastodon, GoToSocial,
Pleroma/Akkoma, Pixelfed): ``GET /api/v1/favourites``.

The favourites' order is the order they were favourited, newest first; the
ids in its ``Link`` header (``max_id``, ``min_id``) are internal ids of the
favourites, not of the statuses, so they are only ever taken from that
header. The cursor is the ``min_id`` of the newest page read (its
``rel="prev"`` link): the next poll asks for what is newer than it
(``min_id``, the page just above) and walks ``prev`` links upwards until a
page is empty, so a burst longer than one poll's pages is read on the next
poll, not skipped. Before there is a cursor it reads newest first along
``next`` links and stops at a favourite it already recorded.

Mastodon does not say when a post was favourited: a like's date is when it
was first seen, and the first poll only takes a baseline (what is already
favourited was favourited before connecting).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from likes.flattring import RemoteLike, likes_known
from likes.models import ConnectedAccount
from likes.sources.base import (
    MAX_PAGES,
    SourceError,
    SourceRead,
    check,
    get,
    json_body,
    links,
    now_utc,
    rate_wait,
    same_origin,
)

PAGE = 40  # the most Mastodon gives a page
TAGS = re.compile(r"<[^>]+>")
WHAT = "The server"


def _title(status: dict[str, Any]) -> str:
    text = " ".join(html.unescape(TAGS.sub(" ", str(status.get("content") or ""))).split())
    author = status.get("account")
    if not isinstance(author, dict):
        author = {}
    name = str(author.get("display_name") or author.get("acct") or "").strip()
    title = f"{name}: {text}" if name and text else (text or name)
    return title[:200]


def _like(status: Any) -> RemoteLike | None:
    if not isinstance(status, dict) or not status.get("id"):
        return None
    url = status.get("url") or status.get("uri")
    if not isinstance(url, str) or not url:
        return None
    return RemoteLike(remote_id=str(status["id"]), url=url, title=_title(status))


def _page(url: str, account: ConnectedAccount, read: SourceRead) -> tuple[list[RemoteLike], dict]:
    now = now_utc()
    response = get(
        url,
        headers={"Authorization": f"Bearer {account.access_token}", "Accept": "application/json"},
    )
    read.requests += 1
    check(response, now=now, what=WHAT)
    data = json_body(response, what=WHAT)
    if not isinstance(data, list) or any(not isinstance(item, dict) for item in data):
        raise SourceError(
            "The server's answer is not a list of posts: is it a Mastodon-compatible server?",
            code="not_api",
        )
    read.wait_until = rate_wait(response.headers, now)
    likes = [like for like in map(_like, data) if like is not None]
    return likes, links(response)


def _min_id(link: str | None) -> str | None:
    if not link:
        return None
    value = parse_qs(urlsplit(link).query).get("min_id")
    return value[0] if value else None


def _follow(link: str | None, base: str) -> str | None:
    """A pagination link we may follow: on the server's own origin only."""
    return link if link and same_origin(link, base) else None


def read(account: ConnectedAccount) -> SourceRead:
    """Read the favourites made since the last poll (see the module's doc)."""
    base = account.url.rstrip("/")
    endpoint = f"{base}/api/v1/favourites"
    result = SourceRead()
    if not account.baseline_done:
        likes, rels = _page(f"{endpoint}?{urlencode({'limit': PAGE})}", account, result)
        result.likes, result.baseline = likes, True
        result.cursor = _min_id(rels.get("prev")) or ""
        return result
    if account.cursor:
        # Upwards from the cursor: each page is the one just above the last.
        url: str | None = f"{endpoint}?{urlencode({'limit': PAGE, 'min_id': account.cursor})}"
        for _ in range(MAX_PAGES):
            if url is None:
                break
            likes, rels = _page(url, account, result)
            if not likes:
                break
            # Oldest first, so the month's cap goes to the earliest.
            result.likes.extend(reversed(likes))
            result.cursor = _min_id(rels.get("prev")) or result.cursor
            url = _follow(rels.get("prev"), base)
            if result.wait_until is not None:
                break
        return result
    # No cursor yet (nothing was favourited at the baseline): newest first,
    # down to what was already recorded.
    url = f"{endpoint}?{urlencode({'limit': PAGE})}"
    for page in range(MAX_PAGES):
        if url is None:
            break
        likes, rels = _page(url, account, result)
        if page == 0:
            result.cursor = _min_id(rels.get("prev"))
        known = likes_known(account=account, remote_ids=[like.remote_id for like in likes])
        result.likes.extend(like for like in likes if like.remote_id not in known)
        if not likes or known or result.wait_until is not None:
            break
        url = _follow(rels.get("next"), base)
    result.likes.reverse()
    return result
