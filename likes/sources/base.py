"""What every source of likes shares: reading JSON through the safe
fetcher, ``Link`` pagination kept on the server's own origin (a token never
goes elsewhere), rate-limit and ``Retry-After`` headers, and errors that say
what went wrong in words safe to store and show (never a token, never a
response body).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.fetch import FetchError, FetchResponse, fetch
from core.http import whole_number
from likes.flattring import RemoteLike

# A poll reads at most this many pages of one account; the rest waits for
# the next poll (the cursor makes sure nothing is lost where the API can
# read forward from it).
MAX_PAGES = 10
# An API page or a feed: the size over which it is refused.
MAX_BYTES = 2 * 1024 * 1024


class SourceError(Exception):
    """A poll failed; ``code`` is stable, ``message`` is a safe sentence."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class SourceRevoked(SourceError):
    """The server refused the token (401): the supporter must reconnect."""

    code = "revoked"


class SourceRateLimited(SourceError):
    """The server asks us to wait (429, or no requests left)."""

    code = "rate_limited"

    def __init__(self, message: str, *, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass
class SourceRead:
    """What one poll of a source read."""

    likes: list[RemoteLike] = field(default_factory=list)
    # The first read of a source that does not date its likes: those it
    # returns without a date were liked before connecting.
    baseline: bool = False
    # New poll state; None leaves it as it was.
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # No poll before this (no requests left until the limit resets).
    wait_until: dt.datetime | None = None
    requests: int = 0


LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')


def links(response: FetchResponse) -> dict[str, str]:
    """The ``Link`` header's targets by relation (RFC 8288's common form)."""
    found: dict[str, str] = {}
    for target, rels in LINK.findall(response.headers.get("Link", "") or ""):
        for rel in rels.split():
            found.setdefault(rel.lower(), target.strip())
    return found


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on ``base``'s scheme, host and port: pagination
    links elsewhere are not followed (the token would go with them)."""
    a, b = urlsplit(url), urlsplit(base)
    try:
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:
        return False


def _reset_time(value: str, now: dt.datetime) -> dt.datetime | None:
    value = value.strip()
    if not value:
        return None
    if (seconds := whole_number(value)) is not None:  # GitHub: epoch seconds
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    parsed = parse_datetime(value)  # Mastodon: ISO 8601
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def retry_after(headers: Any, now: dt.datetime) -> dt.datetime | None:
    """``Retry-After`` (seconds or an HTTP date) as a moment."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if (seconds := whole_number(value)) is not None:
        return now + dt.timedelta(seconds=seconds)
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def rate_wait(headers: Any, now: dt.datetime) -> dt.datetime | None:
    """When to ask again if the server says no requests are left
    (``X-RateLimit-Remaining: 0``), or asks us to wait (``Retry-After``)."""
    wait = retry_after(headers, now)
    if (headers.get("X-RateLimit-Remaining") or "").strip() == "0":
        reset = _reset_time(headers.get("X-RateLimit-Reset") or "", now)
        if reset is not None and (wait is None or reset > wait):
            wait = reset
        wait = wait or now + dt.timedelta(minutes=15)
    return wait


def get(url: str, *, headers: dict[str, str]) -> FetchResponse:
    """GET through the safe fetcher; a refusal or transport failure becomes
    a SourceError with the fetcher's stable code."""
    try:
        return fetch(url, headers=headers, max_bytes=MAX_BYTES)
    except FetchError as exc:
        raise SourceError(_fetch_message(exc), code=exc.code) from exc


def _fetch_message(exc: FetchError) -> str:
    return {
        "bad_url": "The address is not an http(s) address we may read.",
        "dns": "The server's name does not resolve.",
        "address_refused": "The server is on a private network (refused).",
        "connect": "Could not connect to the server.",
        "timeout": "The server was too slow to answer.",
        "redirects": "The server redirected too many times.",
        "too_large": "The server's answer was too large.",
        "protocol": "The server did not answer in HTTP.",
    }.get(exc.code, "The server could not be read.")


def check(response: FetchResponse, *, now: dt.datetime, what: str) -> None:
    """Raise for an answer that is not a success: 401 revoked, 429 (or a
    403 with no requests left) rate limited, anything else an error."""
    if response.ok:
        return
    if response.status == 401:
        raise SourceRevoked(f"{what} refused our access (401): the access was revoked.")
    wait = rate_wait(response.headers, now)
    if response.status == 429 or (response.status == 403 and wait is not None):
        until = wait or now + dt.timedelta(minutes=15)
        raise SourceRateLimited(f"{what} asked us to wait (HTTP {response.status}).", until=until)
    raise SourceError(f"{what} answered HTTP {response.status}.", code="http_error")


def json_body(response: FetchResponse, *, what: str) -> Any:
    """The JSON of an answer, or a SourceError saying it is not JSON."""
    kind = (response.headers.get_content_type() or "").lower()
    if "html" in kind:
        raise SourceError(f"{what} answered a web page, not the API.", code="not_api")
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{what} answered malformed JSON.", code="malformed") from exc


def now_utc() -> dt.datetime:
    return timezone.now()
