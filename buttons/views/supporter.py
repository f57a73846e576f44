"""A supporter's own flattrs: "My flattrs" and undo."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buttons import selectors, services
from buttons.origins import flattrs_describe_origin


@login_required
def my_flattrs(request):
    period = services.current_period()
    this_month = list(selectors.flattrs_of_supporter(supporter=request.user).filter(period=period))
    past = Paginator(
        selectors.flattrs_of_supporter(supporter=request.user).exclude(period=period), 25
    ).get_page(request.GET.get("page"))
    # The subscription state of each listed thing (one query).
    subscriptions = {s.thing_id: s for s in selectors.subscriptions_for(user=request.user)}
    for flattr in [*this_month, *past]:
        flattr.subscription = subscriptions.get(flattr.thing_id)
    # A like elsewhere says where ("Starred on GitHub"): one query per door.
    flattrs_describe_origin(supporter=request.user, flattrs=[*this_month, *past])
    return render(
        request,
        "buttons/my_flattrs.html",
        {"this_month": this_month, "past": past, "period": period},
    )


@login_required
@require_POST
def flattr_undo(request, pk: int):
    try:
        flattr = services.flattr_undo(supporter=request.user, flattr_id=pk)
    except services.FlattrRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("my_flattrs")
    messages.success(
        request, _("Your flattr of “%(title)s” was taken back.") % {"title": flattr.thing.title}
    )
    return redirect("my_flattrs")
