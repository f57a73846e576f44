"""Flattring: the first-party confirm popup for a thing and for auto-submit."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from buttons import counters, selectors, services
from buttons.addresses import host_display
from buttons.click_limits import click_admit
from buttons.forms import AutoSubmitForm
from buttons.models import Flattr, Thing
from buttons.rules import flattr_needs_wallet
from buttons.views.common import snippet_page, thing_or_404, wants_json
from ledger import selectors as ledger_selectors


def _refusal(request, refusal: services.FlattrRefused, context: Callable[[], dict]):
    if wants_json(request):
        return JsonResponse(
            {"error": refusal.code, "message": refusal.message}, status=refusal.status
        )
    return render(
        request, "buttons/confirm.html", {**context(), "error": refusal}, status=refusal.status
    )


def _do_flattr(
    request, create: Callable[[], Flattr], context: Callable[[], dict], *, auto_url: str = ""
):
    """POST handling shared by thing and auto-submit confirmations;
    ``create`` records the flattr or raises FlattrRefused. The confirm
    page's ``context`` is built only to show a refusal; the click's rate
    limits take one Redis round trip (buttons.click_limits), two when the
    flattr is refused."""
    if not request.user.is_authenticated:
        refusal = services.FlattrRefused("not_logged_in", _("Log in to flattr."), 401)
        return _refusal(request, refusal, context)
    click = click_admit(request)
    if click is None:
        refusal = services.FlattrRefused(
            "rate_limited", _("Too many flattrs in a short time. Try again later."), 429
        )
        return _refusal(request, refusal, context)
    try:
        thing = create().thing
    except ValidationError as exc:
        click.refused()
        refusal = services.FlattrRefused("invalid", " ".join(exc.messages), 400)
        return _refusal(request, refusal, context)
    except services.FlattrRefused as refusal:
        click.refused()
        return _refusal(request, refusal, context)
    _month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    if wants_json(request):
        return JsonResponse({"ok": True, "thing": thing.pk, "count": total})
    if request.POST.get("popup"):
        return render(
            request,
            "buttons/flattr_done.html",
            {"thing": thing, "count": total, "auto_url": auto_url},
        )
    messages.success(request, _("Thank you! You flattred “%(title)s”.") % {"title": thing.title})
    return redirect(thing)


def confirm_context(request, thing: Thing | None, **extra) -> dict:
    user = request.user
    # A homograph (Cyrillic "а" for Latin "a") shows in the punycode form.
    host_unicode, host_punycode = host_display(thing.url if thing else extra.get("auto_url", ""))
    return {
        "thing": thing,
        "host_unicode": host_unicode,
        "host_punycode": host_punycode,
        "popup": bool(request.GET.get("popup") or request.POST.get("popup")),
        # After the month nobody tops up: no "wallet empty" in the way.
        "wallet_balance": ledger_selectors.wallet_balance(user=user)
        if user.is_authenticated and flattr_needs_wallet()
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
    thing = thing_or_404(pk)
    if request.method == "POST":
        return _do_flattr(
            request,
            lambda: services.flattr_create(supporter=request.user, thing=thing),
            lambda: confirm_context(request, thing),
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "buttons/confirm.html", confirm_context(request, thing))


@require_http_methods(["GET", "POST"])
def auto_submit(request):
    """Classic ``/submit/auto?user_id=&url=&title=...``: the same confirm page;
    the thing is created on its first flattr."""
    form = AutoSubmitForm(request.GET)
    if not form.is_valid():
        if wants_json(request):
            return JsonResponse(
                {"error": "invalid", "message": form.errors.get_json_data()}, status=400
            )
        return render(request, "buttons/auto_invalid.html", {"form": form}, status=400)
    owner = form.cleaned_data["owner_user"]
    url = form.cleaned_data["url"]
    page = snippet_page(request)
    existing = services.thing_for_auto_submit(owner=owner, url=url)
    own = owner is not None and owner.pk == request.user.pk

    def context() -> dict:
        return confirm_context(
            request,
            existing,
            auto=form.cleaned_data,
            auto_owner=owner,
            auto_url=url,
            auto_own=own and existing is None,
            # Carried through the login round trip and the confirm form.
            auto_page=page,
        )

    if request.method == "POST":
        if own and existing is None:
            return _register_own(request, form, url=url, page=page, context=context)

        def create() -> Flattr:
            return services.flattr_create_auto(
                supporter=request.user, owner=owner, url=url, page_url=page, **form.thing_fields()
            )

        return _do_flattr(request, create, context, auto_url=url)
    if not request.user.is_authenticated:
        return redirect_to_login(_with_page(request, page))
    refusal = None
    if existing is None and not services.auto_submit_allowed(owner=owner, url=url) and not own:
        refusal = services.FlattrRefused(
            "auto_submit_refused",
            _("This creator does not accept things submitted by supporters here."),
            403,
        )
    elif existing is None and owner is not None:
        try:
            services.auto_submit_host_check(owner=owner, url=url, page_url=page)
        except services.FlattrRefused as exc:
            refusal = exc
    if refusal is not None:
        page_context = {**context(), "error": refusal}
        return render(request, "buttons/confirm.html", page_context, status=refusal.status)
    return render(request, "buttons/confirm.html", context())


def _with_page(request, page: str) -> str:
    """This request's address, naming the button's page once the Referer
    that told it is gone (the login round trip)."""
    path = request.get_full_path()
    if not page or request.GET.get("page") == page:
        return path
    return path + ("&" if "?" in path else "?") + urlencode({"page": page})


def _register_own(
    request, form: AutoSubmitForm, *, url: str, page: str, context: Callable[[], dict]
):
    """The creator clicked her own auto-submit button: register the thing
    under her name (nobody flattrs their own thing)."""
    fields = form.thing_fields()
    try:
        thing = services.thing_create_auto_own(owner=request.user, url=url, page_url=page, **fields)
    except ValidationError as exc:
        refusal = services.FlattrRefused("invalid", " ".join(exc.messages), 400)
        return _refusal(request, refusal, context)
    except services.FlattrRefused as refusal:
        return _refusal(request, refusal, context)
    if wants_json(request):
        return JsonResponse({"ok": True, "thing": thing.pk, "registered": True})
    messages.success(
        request,
        _("“%(title)s” is registered under your name. You cannot flattr your own thing.")
        % {"title": thing.title},
    )
    return redirect("thing_button", pk=thing.pk)
