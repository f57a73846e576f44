"""The classic Flattr doors: a page that carried the original snippet works
with only the host swapped.

- ``/js/0.6/load.js`` and ``/js/0.5/load.js``: the FlattrLoader;
- ``/button/view/``: the button iframe a classic definition becomes;
- ``/button/popout/``: the confirm popup behind it;
- ``/button/flattr-badge-large.png`` and ``/flattr-badge-large.png``: the
  93x20 "Flattr this!" image of static snippets;
- ``/thing/<id>`` and ``/profile/<username>``: old links to our pages.
"""

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from buttons import classic_selectors, counters, services
from buttons.views.common import is_http_url, snippet_page
from core.http import frameable

STATIC = Path(__file__).resolve().parent.parent / "static" / "buttons"
# The loader's URL carries its version, not a hash, so it is cached for a
# day and revalidated by ETag; the iframe behind it is ours to change.
LOADER_MAX_AGE = 86_400


@lru_cache(maxsize=4)
def _static(name: str) -> tuple[bytes, str]:
    body = (STATIC / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _static_response(request, name: str, content_type: str, max_age: int) -> HttpResponse:
    body, etag = _static(name)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def load_js(request, version: str):
    return _static_response(request, "load.js", "text/javascript; charset=utf-8", LOADER_MAX_AGE)


@require_GET
def badge_png(request):
    return _static_response(request, "flattr-badge-large.png", "image/png", 7 * LOADER_MAX_AGE)


def _popout_query(button: classic_selectors.ClassicButton) -> str:
    params = {"url": button.url, "title": button.title}
    if button.owner is not None:
        params["uid"] = button.owner.username
    for name, value in button.fields.items():
        if value:
            params[name] = "1" if value is True else value
    return urlencode(params)


@require_GET
@frameable
def button_view(request):
    """The iframe of a classic button: ours (as /embed/auto/), with the
    classic parameters. A definition that cannot work explains itself."""
    button = classic_selectors.classic_button_resolve(params=request.GET)
    if button.problem:
        response = render(
            request,
            "buttons/classic_problem.html",
            {"problem": button.problem, "style": button.style},
            # 200: the frame is the explanation; a 400 would put an error
            # in the publisher's console for a snippet it cannot fix now.
            status=200,
        )
        response["Cache-Control"] = "public, max-age=30"
        return response
    month = total = 0
    if button.thing is not None:
        month, total = counters.counts(thing_id=button.thing.pk, period=services.current_period())
    query = _popout_query(button)
    # The frame is loaded by the publisher's page: its Referer is that page.
    referer = request.headers.get("Referer", "")
    if is_http_url(referer):
        query += "&" + urlencode({"page": referer[:1000]})
    popout = reverse("classic_button_popout") + "?" + query
    response = render(
        request,
        "buttons/embed.html",
        {
            "thing": button.thing,
            "auto_url": button.url,
            "count": total,
            "month_count": month,
            "style": button.style,
            "popup_url": popout + "&popup=1",
            "page_url": popout,
            "available": button.thing is None or not (button.thing.hidden or button.thing.removed),
        },
    )
    response["Cache-Control"] = "public, max-age=30"
    response["Vary"] = "Referer"
    return response


@require_GET
def button_popout(request):
    """The classic popout: our confirm page for this button."""
    button = classic_selectors.classic_button_resolve(params=request.GET)
    if button.problem:
        return render(
            request, "buttons/classic_problem_page.html", {"problem": button.problem}, status=400
        )
    popup = "&popup=1" if request.GET.get("popup") else ""
    thing = button.thing
    if thing is not None:
        return redirect(reverse("flattr_confirm", args=[thing.pk]) + ("?popup=1" if popup else ""))
    params = {"url": button.url, "title": button.title, "category": button.fields["category"]}
    if button.owner is not None:
        params["user_id"] = button.owner.username
    for name in ("description", "tags", "language"):
        if button.fields[name]:
            params[name] = button.fields[name]
    if button.fields["hidden"]:
        params["hidden"] = "1"
    page = snippet_page(request)
    if page:
        params["page"] = page[:1000]
    return redirect(reverse("auto_submit") + "?" + urlencode(params) + popup)


@require_GET
@cache_control(public=True, max_age=3600)
def thing_redirect(request, pk: int, slug: str = ""):
    return redirect("thing_detail", pk=pk, permanent=True)


@require_GET
@cache_control(public=True, max_age=3600)
def profile_redirect(request, username: str):
    return redirect("profile", username=username, permanent=True)
