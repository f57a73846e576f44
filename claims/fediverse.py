"""Checking a fediverse account's proof through the instance's public API.

The creator puts their profile URL here in one of the account's profile
fields (the ``rel="me"`` convention Mastodon verifies). We read the
account with ``GET /api/v1/accounts/lookup?acct=NAME`` (Mastodon,
GoToSocial, Pleroma/Akkoma and Pixelfed answer it, no token needed)
through the safe fetcher, outside any database transaction, and look for
the link in its ``fields``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from buttons.classic_selectors import site_key
from claims.proof_urls import fediverse_names
from core import fetch

LOOKUP_PATH = "/api/v1/accounts/lookup"
# An account is a few kilobytes; a much bigger answer is not one.
MAX_BYTES = 256 * 1024
# The check runs while the creator waits for the page.
TOTAL_TIMEOUT = 10
_HOST = r"[A-Za-z0-9.-]+(?::\d{1,5})?"
_HANDLE = re.compile(rf"^@?(?P<name>[A-Za-z0-9_.-]+)@(?P<host>{_HOST})$")


@dataclass(frozen=True)
class Handle:
    """Where to ask about an account: the instance's root URL and the name."""

    base: str  # scheme://host[:port]
    name: str

    @property
    def host(self) -> str:
        return site_key(self.base)[0]


def handle_parse(text: str) -> Handle:
    """``@name@instance``, ``name@instance`` or a profile URL
    (``https://instance/@name``, ``/users/name``, Pixelfed's
    ``https://instance/name``), or ValidationError."""
    text = (text or "").strip()
    match = _HANDLE.match(text)
    if match:
        return Handle(base="https://" + match.group("host").lower(), name=match.group("name"))
    parts = urlsplit(text)
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        if parts.username or parts.password:
            raise ValidationError(_("Leave the user name and password out of the address."))
        try:
            host, path = site_key(text)
        except ValueError:
            raise ValidationError(_("The port in this address is not valid."))
        names = fediverse_names(path)
        if not names:
            segments = [s for s in path.split("/") if s]
            if len(segments) == 1 and not segments[0].startswith("@"):
                names = [segments[0]]  # Pixelfed: https://instance/name
        if names and re.fullmatch(r"[A-Za-z0-9_.-]+", names[0]):
            return Handle(base=f"{parts.scheme.lower()}://{host}", name=names[0])
    raise ValidationError(
        _(
            "Enter your fediverse address as @name@instance (like @ada@mastodon.social) "
            "or your profile's address (like https://mastodon.social/@ada)."
        )
    )


@dataclass
class ProofResult:
    ok: bool
    code: str = ""
    params: dict = field(default_factory=dict)
    host: str = ""  # where the account's pages live (lower case, port)
    username: str = ""  # lower case
    remote_id: str = ""
    profile_url: str = ""
    verified_by_instance: bool = False
    # Every http(s) address the account's fields link (to tell whose proof
    # it is when two creators claim one account).
    linked: list[str] = field(default_factory=list)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href:
                self.hrefs.append(href.strip())

    def handle_data(self, data):
        self.text.append(data)


def field_links(value: str) -> list[str]:
    """The http(s) addresses a profile field's value links: its anchors'
    ``href`` (Mastodon gives HTML) or, as plain text, the value itself."""
    scan = _Links()
    scan.feed(value or "")
    scan.close()
    links = list(scan.hrefs)
    text = "".join(scan.text).strip()
    if not links and re.fullmatch(r"https?://\S+", text):
        links.append(text)
    return [link for link in links if link.lower().startswith(("http://", "https://"))]


def same_page(a: str, b: str) -> bool:
    """One page, whatever the scheme and a trailing slash."""
    try:
        (ha, pa), (hb, pb) = site_key(a), site_key(b)
    except ValueError:
        return False
    return ha == hb and (pa.rstrip("/") or "/") == (pb.rstrip("/") or "/")


def _fail(code: str, **params: object) -> ProofResult:
    return ProofResult(False, code, dict(params))


def check_account(*, handle: Handle, profile_url: str) -> ProofResult:
    """Read the account from its instance and look for ``profile_url`` in
    its profile fields. Never raises for what the instance does."""
    host = handle.host
    url = f"{handle.base}{LOOKUP_PATH}?acct={quote(handle.name, safe='')}"
    try:
        response = fetch.fetch(
            url,
            headers={"Accept": "application/json"},
            max_bytes=MAX_BYTES,
            total_timeout=TOTAL_TIMEOUT,
        )
    except fetch.FetchError as exc:
        if exc.code == "too_large":
            return _fail("account_too_large", host=host)
        return _fail(exc.code, host=host, url=url)
    content_type = (response.headers.get_content_type() or "").lower()
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if response.status in (404, 410):
        # Mastodon says "Record not found" in JSON; a site without the API
        # answers its own 404 page.
        return _fail("no_such_account" if is_json else "not_mastodon", host=host, name=handle.name)
    if not response.ok:
        return _fail("http_status", status=response.status, url=url)
    if not is_json:
        return _fail("not_mastodon", host=host, name=handle.name)
    try:
        account = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return _fail("account_malformed", host=host)
    result = _read_account(account, handle=handle, api_url=response.url)
    if not result.ok:
        return result
    result.ok = False
    for item in account.get("fields") or []:
        links = field_links(str(item.get("value") or "")) if isinstance(item, dict) else []
        result.linked.extend(links)
        if any(same_page(link, profile_url) for link in links):
            result.ok = True
            result.verified_by_instance = result.verified_by_instance or bool(
                item.get("verified_at")
            )
    if not result.ok:
        return ProofResult(
            False,
            "link_missing",
            {"handle": f"@{result.username}@{result.host}", "profile": profile_url},
            linked=result.linked,
        )
    result.code = ""
    return result


def _read_account(account: object, *, handle: Handle, api_url: str) -> ProofResult:
    """The account's identity, checked against what we asked for."""
    api_host = site_key(api_url)[0]
    if not isinstance(account, dict):
        return _fail("account_malformed", host=api_host)
    username, acct = account.get("username"), account.get("acct")
    profile, fields, remote_id = account.get("url"), account.get("fields"), account.get("id")
    if (
        not isinstance(username, str)
        or not isinstance(profile, str)
        or not isinstance(fields, list)
        or not isinstance(remote_id, str | int)
        or not profile.lower().startswith(("http://", "https://"))
    ):
        return _fail("account_malformed", host=api_host)
    if (isinstance(acct, str) and "@" in acct) or username.lower() != handle.name.lower():
        # A remote account the instance knows of, or not the one we asked for.
        return _fail("account_elsewhere", host=api_host, name=handle.name)
    try:
        profile = urljoin(api_url, profile)
        pages_host = site_key(profile)[0]
    except ValueError:
        return _fail("account_malformed", host=api_host)
    if pages_host != api_host:
        # An instance only speaks for its own accounts: its answer about an
        # account whose pages are elsewhere proves nothing.
        return _fail("account_elsewhere", host=api_host, name=handle.name)
    return ProofResult(
        True,
        host=pages_host,
        username=username.lower(),
        remote_id=str(remote_id),
        profile_url=profile,
    )
