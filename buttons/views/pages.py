"""HTML pages: a thing's page, explore, and a creator's own things."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buttons import assets, counters, selectors, services
from buttons.forms import AutoSubmitPolicyForm, ThingForm
from buttons.models import Category, Thing
from buttons.views.common import thing_or_404
from buttons.views.flattr import confirm_context
from core.db_router import replica_reads


def thing_detail(request, pk: int):
    thing = thing_or_404(pk)
    if thing.removed and thing.owner_id != request.user.pk:
        raise Http404(_("This thing was removed by its creator."))
    month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
    return render(
        request,
        "buttons/thing_detail.html",
        {
            **confirm_context(request, thing),
            # The thing page's button posts to the confirmation view.
            "confirm_action": reverse("flattr_confirm", args=[thing.pk]),
            "flattred_by": selectors.public_supporters(thing=thing),
            "count": total,
            "month_count": month,
            "button_js_version": assets.button_js_version(),
        },
    )


@replica_reads
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
    words = request.GET.get("q", "").strip()[:200]
    language = request.GET.get("lang", "").strip()[:16]
    searching = bool(words or language)
    newest = (
        selectors.things_search(words=words, category=category, language=language)
        if searching
        else selectors.newest_things(category=category)
    )
    newest_page = Paginator(newest, 20).get_page(request.GET.get("new"))
    return render(
        request,
        "buttons/explore.html",
        {
            "categories": Category.choices,
            "category": category,
            "q": words,
            "lang": language,
            "languages": selectors.thing_language_choices(),
            "searching": searching,
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
    submitted = selectors.things_of_owner(owner=request.user, pending=True)[:100]
    return render(request, "buttons/my_things.html", {"page": things, "submitted": submitted})


@login_required
@require_POST
def thing_accept(request, pk: int):
    """One click: a thing a supporter submitted under the creator's name
    becomes hers and is listed."""
    try:
        thing = services.thing_accept(owner=request.user, thing_id=pk)
    except Thing.DoesNotExist:
        raise Http404(_("No thing of yours has the id %(id)s.") % {"id": pk})
    messages.success(request, _("“%(title)s” is accepted and listed.") % {"title": thing.title})
    return redirect("my_things")


@login_required
@require_POST
def thing_dismiss(request, pk: int):
    """One click: remove a thing a supporter submitted under the creator's
    name (its flattrs then do not count, as for any removed thing)."""
    thing = _own_thing(request, pk)
    services.thing_remove(thing=thing)
    messages.success(request, _("“%(title)s” is removed.") % {"title": thing.title})
    return redirect("my_things")


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
            "snippet_default": assets.snippet(thing, "default"),
            "snippet_compact": assets.snippet(thing, "compact"),
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
            "version": assets.button_js_version(),
        },
    )
    # It plays a third-party site, which sends no COOP or CSP of ours.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    response._csp_exempt = True
    return response


@login_required
@require_http_methods(["GET", "POST"])
def auto_submit_settings(request):
    """A creator decides what supporters may auto-submit under their name."""
    policy = services.auto_submit_policy_for(owner=request.user)
    initial = {"enabled": True, "url_prefixes": ""}
    if policy is not None:
        initial = {"enabled": policy.enabled, "url_prefixes": policy.url_prefixes}
    form = AutoSubmitPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.auto_submit_policy_update(
            owner=request.user,
            enabled=form.cleaned_data["enabled"],
            url_prefixes=form.cleaned_data["url_prefixes"],
        )
        messages.success(request, _("Your auto-submit settings were saved."))
        return redirect("auto_submit_settings")
    return render(
        request,
        "buttons/auto_submit_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
