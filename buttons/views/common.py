"""Helpers shared by the button views."""

from urllib.parse import urlsplit

from django.http import Http404
from django.utils.translation import gettext as _

from buttons.models import Thing


def wants_json(request) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.GET.get("format") == "json"
    )


def is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def snippet_page(request) -> str:
    """The page an auto-submit button is on, where known ("" otherwise).

    A Referer from another site is that page (the frame's own request, or a
    link or popup opened straight from the publisher's page). A request
    from our own pages (the button frame opening the popup, the login
    round trip, the confirm form) carries the page the frame saw as its
    ``page`` parameter; a ``page`` parameter is never believed from
    anywhere else. Like any header it only tells what a browser said: the
    real safeguard is that a supporter's submission waits for the creator.
    """
    referer = request.headers.get("Referer", "")
    if not is_http_url(referer):
        return ""
    if urlsplit(referer).netloc.lower() != request.get_host().lower():
        return referer
    page = request.POST.get("page") or request.GET.get("page") or ""
    return page if is_http_url(page) else ""


def thing_or_404(pk: int) -> Thing:
    thing = Thing.objects.select_related("owner").filter(pk=pk).first()
    if thing is None:
        raise Http404(_("No thing has the id %(id)s.") % {"id": pk})
    return thing
