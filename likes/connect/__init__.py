"""Connecting accounts: the OAuth dances with Mastodon-compatible servers and
GitHub, adding a feed of likes, switching and disconnecting.

Every request to another host goes through the safe fetcher
(:func:`core.fetch.fetch`), outside any database transaction: an answer is
read first, then its outcome is saved in one short transaction. What goes
wrong is a :class:`ConnectError` whose ``message`` is a sentence for the
supporter (the page shows it) and whose ``code`` is stable (logs, tests).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.utils.translation import gettext as _

from core.fetch import FetchError, FetchResponse, fetch

log = logging.getLogger("likes.connect")

# An API answer of ours is a few kilobytes; a megabyte is not an API.
API_MAX_BYTES = 256 * 1024
API_TIMEOUT = 10.0
# How long a supporter may take on the other site's authorisation page.
PENDING_SECONDS = 15 * 60
# A revocation is best-effort, after our commit, while the supporter waits
# for the page: a server slower than this keeps its grant, we keep nothing.
REVOKE_TIMEOUT = 5.0
# What GitHub's REST API asks of every call (docs.github.com, API versions).
GITHUB_API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}


class ConnectError(Exception):
    """Connecting failed; ``message`` says why to the supporter."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def host_of(url: str) -> str:
    """``mastodon.example`` (with ``:port`` when there is one), for messages."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url


def fetch_problem(error: FetchError, host: str) -> ConnectError:
    """A refused or failed fetch as a sentence for people."""
    words = {
        "bad_url": _("“%(host)s” is not an address we can reach."),
        "dns": _("No server answers at %(host)s: the name does not resolve."),
        "address_refused": _(
            "%(host)s is on a private network; only public servers can be connected."
        ),
        "connect": _("Could not connect to %(host)s."),
        "timeout": _("%(host)s took too long to answer."),
        "redirects": _("%(host)s redirected too many times."),
        "too_large": _("%(host)s sent an answer far too large for what was asked."),
        "protocol": _("%(host)s did not answer in proper HTTP."),
    }
    text = words.get(error.code, _("Could not reach %(host)s.")) % {"host": host}
    return ConnectError(error.code, text)


def request_json(
    url: str,
    *,
    method: str = "GET",
    form: dict[str, str] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    what: str,
) -> tuple[FetchResponse, Any]:
    """Fetch ``url`` and parse its JSON answer: (response, data).

    A transport failure, an answer that is not JSON (an HTML page) or is
    malformed, is a :class:`ConnectError` that names ``what`` was asked
    ("the Mastodon API"). Any HTTP status is returned: callers judge it.
    Redirects are not followed: an API answers where it is asked.
    """
    host = host_of(url)
    send = {"Accept": "application/json", **(headers or {})}
    if token:
        send["Authorization"] = f"Bearer {token}"
    body = None
    if form is not None:
        send["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(form).encode()
    try:
        response = fetch(
            url,
            method=method,
            body=body,
            headers=send,
            max_redirects=0,
            max_bytes=API_MAX_BYTES,
            total_timeout=API_TIMEOUT,
        )
    except FetchError as error:
        log.warning("connect: %s %s refused: %s (%s)", method, host, error.code, error.reason)
        raise fetch_problem(error, host) from error
    kind = (response.headers.get_content_type() or "").lower()
    if not (kind == "application/json" or kind.endswith("+json")):
        log.warning("connect: %s %s answered %s %s", method, host, response.status, kind)
        raise ConnectError(
            "not_json",
            _("%(host)s did not answer as %(what)s does (it sent %(kind)s).")
            % {"host": host, "what": what, "kind": kind or _("nothing")},
        )
    try:
        data = json.loads(response.body)
    except ValueError as error:
        log.warning("connect: %s %s sent malformed JSON", method, host)
        raise ConnectError(
            "malformed",
            _("%(host)s answered with malformed data, not as %(what)s does.")
            % {"host": host, "what": what},
        ) from error
    return response, data


def text_field(data: Any, name: str, *, limit: int = 255) -> str:
    """``data[name]`` as a non-empty string (ids may come as numbers), else ""."""
    if not isinstance(data, dict):
        return ""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = str(value).strip()
    return text if 0 < len(text) <= limit else ""
