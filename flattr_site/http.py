"""Small HTTP helpers shared by the apps."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.views.decorators.clickjacking import xframe_options_exempt

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required`` (or the admin): its
    ``user`` is a real ``User``, never ``AnonymousUser``. For type checkers."""

    user: User


def frameable(view):
    """Let any site frame this view (the button iframe and nothing else)."""

    @xframe_options_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.flattr_frameable = True
        return response

    return wrapped


def client_ip(request) -> str:
    """The client's address; behind a proxy set TRUSTED_PROXY_COUNT."""
    from django.conf import settings

    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            return parts[-hops]
    return request.META.get("REMOTE_ADDR", "")
