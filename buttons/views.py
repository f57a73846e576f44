import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buttons import counters, ratelimit, selectors, services
from buttons.forms import AutoSubmitForm, ThingForm
from buttons.models import Category, Thing
from flattr_site.http import client_ip, frameable
from ledger import selectors as ledger_selectors

BUTTON_JS = Path(__file__).resolve().parent / "static" / "buttons" / "button.js"


@lru_cache(maxsize=1)
def _button_js() -> tuple[bytes, str]:
    body = BUTTON_JS.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def button_js_version() -> str:
    return _button_js()[1]


def snippet(thing: Thing, style: str = "default") -> str:
    base = settings.SITE_URL
    style_attr = ' data-flattr-style="compact"' if style == "compact" else ""
    return (
        f'<script async src="{base}/button.js?v={button_js_version()}"></script>\n'
        f'<a class="flattr-button" href="{base}{thing.get_absolute_url()}" '
        f'data-flattr-thing="{thing.pk}"{style_attr}>Flattr</a>'
    )


def _wants_json(request) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.GET.get("format") == "json"
    )


def _thing_or_404(pk: int) -> Thing:
    thing = Thing.objects.select_related("owner").filter(pk=pk).first()
    if thing is None:
        raise Http404(_("No thing has the id %(id)s.") % {"id": pk})
    return thing


# --- The button -------------------------------------------------------------


@require_GET
def button_js(request):
    body, version = _button_js()
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


COUNT_MARK = "__FLATTR_COUNT__"
EMBED_TEMPLATE = Path(__file__).resolve().parent / "templates" / "buttons" / "embed.html"


@lru_cache(maxsize=1)
def _embed_template_version() -> str:
    """Part of the cached page's key: a deploy that changes the iframe never
    serves pages rendered by the old template."""
    return hashlib.sha256(EMBED_TEMPLATE.read_bytes()).hexdigest()[:8]


@require_GET
@frameable
def embed(request, pk: int):
    """The button iframe. Warm path: one cache round trip (counts and the
    rendered page), no database query, no template rendering."""
    style = "compact" if request.GET.get("style") == "compact" else "default"
    page = f"embed:{style}:{request.LANGUAGE_CODE}:{_embed_template_version()}"
    _month, total, html = counters.snapshot(
        thing_id=pk, period=services.current_period(), page=page
    )
    if html is None:
        thing = _thing_or_404(pk)
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
    thing = services.thing_for_auto_submit(owner=owner, url=form.cleaned_data["url"])
    month = total = 0
    if thing is not None:
        month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    query = _auto_query(form)
    return _embed_response(
        request,
        {
            "thing": thing,
            "auto_url": form.cleaned_data["url"],
            "count": total,
            "month_count": month,
            "style": "compact" if request.GET.get("style") == "compact" else "default",
            "popup_url": reverse("auto_submit") + "?" + query + "&popup=1",
            "page_url": reverse("auto_submit") + "?" + query,
            "available": thing is None or not (thing.hidden or thing.removed),
        },
    )


def _auto_query(form: AutoSubmitForm) -> str:
    d = form.cleaned_data
    owner = d["owner_user"]
    params = {"url": d["url"], "title": d["title"], "category": d["category"]}
    if owner is not None:
        params["user_id"] = owner.username
    for name in ("description", "tags", "language"):
        if d.get(name):
            params[name] = d[name]
    if d["hidden"]:
        params["hidden"] = "1"
    return urlencode(params)


@require_GET
@cache_control(public=True, max_age=30)
def count_json(request, pk: int):
    month, total, known = counters.snapshot(
        thing_id=pk, period=services.current_period(), page="card"
    )
    if known is None:
        known = Thing.objects.filter(pk=pk).exists()
        if known:
            counters.store_page(thing_id=pk, page="card", value=True)
    if not known:
        response = JsonResponse({"error": "not_found", "message": "No such thing."}, status=404)
    else:
        response = JsonResponse({"thing": pk, "count": total, "month": month})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def badge_svg(request, pk: int):
    thing = _thing_or_404(pk)
    _month, total = counters.counts(thing_id=pk, period=services.current_period())
    label, value = "flattr", str(total)
    left, right = 46, 10 + 7 * len(value)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" role="img" '
        f'aria-label="{escape(label)}: {escape(value)}"><title>{escape(thing.title)}: {escape(value)}</title>'
        f'<rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="#e8590c"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">{escape(label)}</text><text x="{left + 5}" y="14">{escape(value)}</text></g></svg>'
    )
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


# --- Flattring --------------------------------------------------------------


def _refusal(request, thing, refusal: services.FlattrRefused, template_context: dict):
    if _wants_json(request):
        return JsonResponse(
            {"error": refusal.code, "message": refusal.message}, status=refusal.status
        )
    context = {**template_context, "error": refusal}
    return render(request, "buttons/confirm.html", context, status=refusal.status)


def _rate_limited(request) -> bool:
    user_ok = ratelimit.hit(
        scope="flattr-user", key=str(request.user.pk), rate=settings.FLATTR_CLICK_RATE_PER_USER
    )
    ip_ok = ratelimit.hit(
        scope="flattr-ip", key=client_ip(request), rate=settings.FLATTR_CLICK_RATE_PER_IP
    )
    return not (user_ok and ip_ok)


def _do_flattr(request, thing_factory, context: dict):
    """POST handling shared by thing and auto-submit confirmations."""
    if not request.user.is_authenticated:
        refusal = services.FlattrRefused("not_logged_in", _("Log in to flattr."), 401)
        return _refusal(request, context.get("thing"), refusal, context)
    if _rate_limited(request):
        refusal = services.FlattrRefused(
            "rate_limited", _("Too many flattrs in a short time. Try again later."), 429
        )
        return _refusal(request, context.get("thing"), refusal, context)
    try:
        thing = thing_factory()
        services.flattr_create(supporter=request.user, thing=thing)
    except ValidationError as exc:
        refusal = services.FlattrRefused("invalid", " ".join(exc.messages), 400)
        return _refusal(request, None, refusal, context)
    except services.FlattrRefused as refusal:
        return _refusal(request, context.get("thing"), refusal, context)
    _month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    if _wants_json(request):
        return JsonResponse({"ok": True, "thing": thing.pk, "count": total})
    if request.POST.get("popup"):
        return render(
            request,
            "buttons/flattr_done.html",
            {"thing": thing, "count": total, "auto_url": context.get("auto_url", "")},
        )
    messages.success(request, _("Thank you! You flattred “%(title)s”.") % {"title": thing.title})
    return redirect(thing)


def _confirm_context(request, thing: Thing | None, **extra) -> dict:
    user = request.user
    return {
        "thing": thing,
        "popup": bool(request.GET.get("popup") or request.POST.get("popup")),
        "wallet_balance": ledger_selectors.wallet_balance(user=user)
        if user.is_authenticated
        else None,
        "topup_url": reverse("topup") + "?" + urlencode({"next": request.get_full_path()}),
        "my_flattr": selectors.flattr_this_month(supporter=user, thing_id=thing.pk)
        if thing is not None
        else None,
        "my_flattrs_url": reverse("my_flattrs"),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def flattr_confirm(request, pk: int):
    """The first-party popup where a supporter confirms a flattr. Never
    frameable (default X-Frame-Options DENY + frame-ancestors 'none')."""
    thing = _thing_or_404(pk)
    context = _confirm_context(request, thing)
    if request.method == "POST":
        return _do_flattr(request, lambda: thing, context)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "buttons/confirm.html", context)


@require_http_methods(["GET", "POST"])
def auto_submit(request):
    """Classic ``/submit/auto?user_id=&url=&title=...``: the same confirm page;
    the thing is created on its first flattr."""
    form = AutoSubmitForm(request.GET)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse(
                {"error": "invalid", "message": form.errors.get_json_data()}, status=400
            )
        return render(request, "buttons/auto_invalid.html", {"form": form}, status=400)
    owner = form.cleaned_data["owner_user"]
    url = form.cleaned_data["url"]
    existing = services.thing_for_auto_submit(owner=owner, url=url)
    context = _confirm_context(
        request, existing, auto=form.cleaned_data, auto_owner=owner, auto_url=url
    )
    if request.method == "POST":

        def factory():
            return services.thing_get_or_create_auto(owner=owner, url=url, **form.thing_fields())

        return _do_flattr(request, factory, context)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "buttons/confirm.html", context)


# --- Pages ------------------------------------------------------------------


def thing_detail(request, pk: int):
    thing = _thing_or_404(pk)
    if thing.removed and thing.owner_id != request.user.pk:
        raise Http404(_("This thing was removed by its creator."))
    month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    return render(
        request,
        "buttons/thing_detail.html",
        {
            **_confirm_context(request, thing),
            # The thing page's button posts to the confirmation view.
            "confirm_action": reverse("flattr_confirm", args=[thing.pk]),
            "flattred_by": selectors.public_supporters(thing=thing),
            "count": total,
            "month_count": month,
            "button_js_version": button_js_version(),
        },
    )


def explore(request):
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    top_page = Paginator(selectors.most_flattred_ids(category=category), 20).get_page(
        request.GET.get("top")
    )
    top_things = Thing.objects.select_related("owner").in_bulk(list(top_page))
    top = [top_things[i] for i in top_page if i in top_things]
    period = services.current_period()
    for thing in top:
        thing.month_count, thing.total_count = counters.counts(thing_id=thing.pk, period=period)
    newest_page = Paginator(selectors.newest_things(category=category), 20).get_page(
        request.GET.get("new")
    )
    return render(
        request,
        "buttons/explore.html",
        {
            "categories": Category.choices,
            "category": category,
            "top": top,
            "top_page": top_page,
            "newest_page": newest_page,
        },
    )


@login_required
def my_things(request):
    things = Paginator(selectors.things_of_owner(owner=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "buttons/my_things.html", {"page": things})


@login_required
def thing_new(request):
    form = ThingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            thing = services.thing_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your thing is registered. Here is its button."))
            return redirect("thing_button", pk=thing.pk)
    return render(
        request, "buttons/thing_form.html", {"form": form}, status=400 if form.errors else 200
    )


def _own_thing(request, pk: int) -> Thing:
    return get_object_or_404(Thing, pk=pk, owner=request.user, removed=False)


@login_required
def thing_edit(request, pk: int):
    thing = _own_thing(request, pk)
    form = ThingForm(request.POST or None, instance=Thing.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.thing_update(thing=thing, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("my_things")
    return render(
        request,
        "buttons/thing_form.html",
        {"form": form, "thing": thing},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def thing_toggle_hidden(request, pk: int):
    thing = _own_thing(request, pk)
    services.thing_update(thing=thing, hidden=not thing.hidden)
    return redirect("my_things")


@login_required
@require_http_methods(["GET", "POST"])
def thing_delete(request, pk: int):
    thing = _own_thing(request, pk)
    if request.method == "POST":
        deleted = services.thing_remove(thing=thing)
        if deleted:
            messages.success(request, _("Deleted."))
        else:
            messages.info(
                request,
                _("This thing has flattrs, so it was hidden and removed from your list instead."),
            )
        return redirect("my_things")
    return render(request, "buttons/thing_delete.html", {"thing": thing})


@login_required
def thing_button(request, pk: int):
    thing = _own_thing(request, pk)
    return render(
        request,
        "buttons/thing_button.html",
        {
            "thing": thing,
            "snippet_default": snippet(thing, "default"),
            "snippet_compact": snippet(thing, "compact"),
            "badge_markdown": f"[![Flattr]({settings.SITE_URL}{reverse('thing_badge', args=[thing.pk])})]"
            f"({settings.SITE_URL}{thing.get_absolute_url()})",
        },
    )


@require_GET
def demo_publisher(request):
    """A publisher page for trying the button from another site (DEBUG only)."""
    if not settings.DEBUG:
        raise Http404()
    things = selectors.visible_things().select_related("owner").order_by("pk")[:4]
    owner = things[0].owner if things else None
    response = render(
        request,
        "buttons/demo_publisher.html",
        {
            "things": things,
            "owner": owner,
            "platform": settings.SITE_URL,
            "version": button_js_version(),
        },
    )
    # It plays a third-party site, which sends no COOP of ours.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
