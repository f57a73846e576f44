"""The button as other sites embed it: ``button.js``, the iframe for a
registered thing and the auto-submit iframe."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from buttons import assets, counters, services
from buttons.forms import AutoSubmitForm
from buttons.views.common import is_http_url, thing_or_404
from core.http import frameable

COUNT_MARK = "__FLATTR_COUNT__"
# Cached in place of a removed thing's page: its title is gone with it.
GONE = "__FLATTR_GONE__"


def gone_page(request) -> HttpResponse:
    response = render(request, "buttons/embed_gone.html", status=410)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def button_js(request):
    body, version = assets.button_js()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    if request.GET.get("v") == version:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _embed_response(request, context):
    response = render(request, "buttons/embed.html", context)
    response["Cache-Control"] = "public, max-age=30"
    return response


@require_GET
@frameable
def embed(request, pk: int):
    """The button iframe. Warm path: one cache round trip (counts and the
    rendered page), no database query, no template rendering."""
    style = "compact" if request.GET.get("style") == "compact" else "default"
    page = f"embed:{style}:{request.LANGUAGE_CODE}:{assets.embed_template_version()}"
    _month, total, html = counters.snapshot(
        thing_id=pk, period=services.current_period(), page=page
    )
    if html is None:
        thing = thing_or_404(pk)
        if thing.removed:
            counters.store_page(thing_id=pk, page=page, value=GONE)
            return gone_page(request)
        html = render(
            request,
            "buttons/embed.html",
            {
                "thing": thing,
                "count": COUNT_MARK,
                "style": style,
                "popup_url": reverse("flattr_confirm", args=[thing.pk]) + "?popup=1",
                "page_url": thing.get_absolute_url(),
                "available": not (thing.hidden or thing.removed),
            },
        ).content.decode()
        counters.store_page(thing_id=pk, page=page, value=html)
    if html == GONE:
        return gone_page(request)
    response = HttpResponse(html.replace(COUNT_MARK, str(total)))
    response["Cache-Control"] = "public, max-age=30"
    return response


@require_GET
@frameable
def embed_auto(request):
    form = AutoSubmitForm(request.GET)
    if not form.is_valid():
        response = render(request, "buttons/embed_error.html", {"form": form}, status=400)
        return response
    owner = form.cleaned_data["owner_user"]
    url = form.cleaned_data["url"]
    thing = services.thing_for_auto_submit(owner=owner, url=url)
    # The frame is loaded by the publisher's page: its Referer is that page.
    referer = request.headers.get("Referer", "")
    page = referer if is_http_url(referer) else ""
    month = total = 0
    if thing is None:
        available = services.auto_submit_allowed(owner=owner, url=url)
        if available and owner is not None:
            try:
                services.auto_submit_host_check(owner=owner, url=url, page_url=page)
            except services.FlattrRefused:
                available = False
    else:
        available = not (thing.hidden or thing.removed)
        month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    query = auto_query(form, page=page)
    response = _embed_response(
        request,
        {
            "thing": thing,
            "auto_url": form.cleaned_data["url"],
            "count": total,
            "month_count": month,
            "style": "compact" if request.GET.get("style") == "compact" else "default",
            "popup_url": reverse("auto_submit") + "?" + query + "&popup=1",
            "page_url": reverse("auto_submit") + "?" + query,
            "available": available,
        },
    )
    # The popup's address names the page the frame is on.
    response["Vary"] = "Referer"
    return response


def auto_query(form: AutoSubmitForm, page: str = "") -> str:
    d = form.cleaned_data
    owner = d["owner_user"]
    params = {"url": d["url"], "title": d["title"], "category": d["category"]}
    if owner is not None:
        params["user_id"] = owner.username
    for name in ("description", "tags", "language"):
        if d.get(name):
            params[name] = d[name]
    if d["hidden"]:  # unlisted
        params["hidden"] = "1"
    if page:
        params["page"] = page[:1000]
    return urlencode(params)
