"""Small HTTP helpers shared by the apps."""

from __future__ import annotations

import ipaddress
from functools import wraps
from typing import TYPE_CHECKING

from csp.decorators import csp_replace
from django.http import HttpRequest
from django.views.decorators.clickjacking import xframe_options_exempt

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required`` (or the admin): its
    ``user`` is a real ``User``, never ``AnonymousUser``. For type checkers."""

    user: User


def frameable(view):
    """Let any site frame this view (the button iframe and nothing else):
    no X-Frame-Options and CSP ``frame-ancestors *``; every other page keeps
    ``frame-ancestors 'none'``."""

    @xframe_options_exempt
    @csp_replace({"frame-ancestors": ["*"]})
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapped


def client_ip(request) -> str:
    """The client's address. Behind ``TRUSTED_PROXY_COUNT`` proxies that each
    append the address they saw to X-Forwarded-For, it is the entry that many
    places from the end; anything a client wrote before it is ignored. With
    no trusted proxy, X-Forwarded-For is ignored.

    Not django-ipware: its proxy count describes proxies listed inside the
    header and, when a client prepends its own entries, it answers None or a
    forged entry. This is allauth's rule (ALLAUTH_TRUSTED_PROXY_COUNT), so
    login limits and flattr limits see the same address.
    """
    from django.conf import settings

    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",")]
        if len(parts) >= hops:
            candidate = parts[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR", "")


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when it is ASCII digits only ("12"), else
    None. ``str.isdigit()`` also says yes to "²" (which ``int()`` refuses:
    a 500) and to "١٢" (which it reads): input from people and other
    servers is checked with this instead."""
    return int(text) if text.isascii() and text.isdigit() else None
