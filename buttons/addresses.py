"""Addresses of things: one spelling per address, and none that can fool a
reader.

``url_normalize`` lower-cases the scheme and host, drops a default port and
gives an empty path its ``/``, so ``HTTPS://X.example`` and
``https://x.example/`` are one thing. It refuses credentials
(``https://bank.example@evil.example/``), bidi overrides and zero-width
characters, raw or percent-encoded, which make an address read differently
from where it leads. ``host_display`` gives an internationalised host in
both forms, so a homograph (Cyrillic ``а`` for Latin ``a``) is visible.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_PORTS = {"http": 80, "https": 443}

# Bidi embeddings, overrides, isolates and marks; zero-width spaces and
# joiners, the word joiner, the BOM and the Mongolian vowel separator.
INVISIBLE = re.compile("[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def url_normalize(url: str) -> str:
    """The canonical spelling of an http(s) address, or ValidationError."""
    url = url.strip()
    if INVISIBLE.search(url) or INVISIBLE.search(unquote(url)):
        raise ValidationError(
            _("Addresses cannot contain invisible or direction-changing characters."),
            code="invisible",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(_("Enter an http or https address."), code="invalid") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValidationError(_("Enter an http or https address."), code="invalid")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            _("Addresses with a user name or password are not accepted."), code="credentials"
        )
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def host_display(url: str) -> tuple[str, str]:
    """(host in Unicode, host in punycode) for an internationalised host;
    (host, "") when the host is plain ASCII."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii")
        unicode_host = ascii_host.encode("ascii").decode("idna")
    except UnicodeError:
        return host, ""
    if ascii_host == unicode_host:
        return host, ""
    return unicode_host, ascii_host
