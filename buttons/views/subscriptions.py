"""Subscriptions: subscribing from a thing's page or the confirm popup, and
the "Subscriptions" page (months left, pause/resume, cancel)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buttons import counters, selectors, services, subscriptions
from buttons.models import SUBSCRIPTION_MONTHS
from buttons.views.common import thing_or_404
from buttons.views.flattr import _refusal, confirm_context
from core.http import whole_number


@login_required
def subscription_list(request):
    return render(
        request,
        "buttons/subscriptions.html",
        {
            "subscriptions": selectors.subscriptions_for(user=request.user),
            "current_period": services.current_period(),
        },
    )


@login_required
@require_POST
def subscription_new(request, pk: int):
    thing = thing_or_404(pk)
    context = confirm_context(request, thing)
    months = whole_number(request.POST.get("months", "")) or 0
    try:
        if months not in SUBSCRIPTION_MONTHS:
            raise services.FlattrRefused(
                "invalid_parameters", _("A subscription lasts 1, 3, 6 or 12 months."), 400
            )
        subscriptions.subscription_create(supporter=request.user, thing=thing, months=months)
    except services.FlattrRefused as refusal:
        return _refusal(request, refusal, lambda: context)
    if context["popup"]:
        _month, total = counters.counts(thing_id=thing.pk, period=services.current_period())
        return render(
            request, "buttons/flattr_done.html", {"thing": thing, "count": total, "auto_url": ""}
        )
    messages.success(
        request,
        _("You subscribed to “%(title)s”: it is flattred once a month for %(months)s months.")
        % {"title": thing.title, "months": months},
    )
    return redirect("subscription_list")


@login_required
@require_POST
def subscription_change(request, pk: int, action: str):
    if action not in ("pause", "cancel"):
        raise Http404(_("No such action."))
    thing = thing_or_404(pk)
    try:
        if action == "cancel":
            subscriptions.subscription_cancel(supporter=request.user, thing=thing)
            messages.success(request, _("Subscription cancelled."))
        else:
            subscription = subscriptions.subscription_toggle_pause(
                supporter=request.user, thing=thing
            )
            messages.success(
                request,
                _("Subscription paused.")
                if subscription.status == "paused"
                else _("Subscription resumed."),
            )
    except services.FlattrRefused as refusal:
        messages.error(request, refusal.message)
        return render(
            request,
            "buttons/subscriptions.html",
            {
                "subscriptions": selectors.subscriptions_for(user=request.user),
                "current_period": services.current_period(),
            },
            status=refusal.status,
        )
    return redirect("subscription_list")
