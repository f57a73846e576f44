"""A feed of likes: RSS, Atom (through ``feedparser``) or JSON Feed (read
here: feedparser does not). Every item's link is a like; its id is the
item's id (else its link). Conditional GET (``ETag``, ``Last-Modified``)
spares unchanged feeds. A feed has no pages: what it lists is what is read.

An item's date (published, else updated) says when it was liked; an undated
item counts from when it was first seen, except at the first poll, which
takes those as liked before connecting.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from typing import Any

import feedparser
from django.utils.dateparse import parse_datetime

from core.fetch import FetchResponse
from likes.flattring import RemoteLike
from likes.models import ConnectedAccount
from likes.sources.base import SourceError, SourceRead, check, get, now_utc, rate_wait

WHAT = "The feed's server"
FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
MAX_ITEMS = 500


def _date(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _json_feed(data: Any) -> list[RemoteLike]:
    version = str(data.get("version", "")) if isinstance(data, dict) else ""
    if not version.startswith("https://jsonfeed.org/version/") or not isinstance(
        data.get("items"), list
    ):
        raise SourceError("The address does not serve a feed.", code="not_feed")
    likes = []
    for item in data["items"][:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        url = item.get("external_url") or item.get("url")
        if not isinstance(url, str) or not url:
            continue
        when = parse_datetime(str(item.get("date_published") or item.get("date_modified") or ""))
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        likes.append(
            RemoteLike(
                remote_id=str(item.get("id") or url),
                url=url,
                title=str(item.get("title") or ""),
                liked_at=when,
            )
        )
    return likes


def _xml_feed(response: FetchResponse) -> list[RemoteLike]:
    parsed = feedparser.parse(
        response.body, response_headers={"content-type": response.headers.get("Content-Type", "")}
    )
    if not parsed.get("version") and not parsed.entries:
        raise SourceError("The address does not serve a feed.", code="not_feed")
    likes = []
    for entry in parsed.entries[:MAX_ITEMS]:
        url = entry.get("link")
        if not url:
            continue
        when = _date(entry.get("published_parsed") or entry.get("updated_parsed"))
        likes.append(
            RemoteLike(
                remote_id=str(entry.get("id") or url),
                url=str(url),
                title=str(entry.get("title") or ""),
                liked_at=when,
            )
        )
    return likes


def _is_json(response: FetchResponse) -> bool:
    kind = (response.headers.get_content_type() or "").lower()
    return kind.endswith("json") or response.body.lstrip()[:1] == b"{"


def read(account: ConnectedAccount) -> SourceRead:
    headers = {"Accept": FEED_ACCEPT}
    if account.etag:
        headers["If-None-Match"] = account.etag
    if account.last_modified:
        headers["If-Modified-Since"] = account.last_modified
    now = now_utc()
    response = get(account.url, headers=headers)
    result = SourceRead(requests=1, baseline=not account.baseline_done)
    if response.status == 304:
        return result
    check(response, now=now, what=WHAT)
    result.wait_until = rate_wait(response.headers, now)
    if _is_json(response):
        try:
            data = json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError("The feed is malformed JSON.", code="malformed") from exc
        result.likes = _json_feed(data)
    else:
        result.likes = _xml_feed(response)
    result.etag = (response.headers.get("ETag") or "")[:255]
    result.last_modified = (response.headers.get("Last-Modified") or "")[:64]
    return result
