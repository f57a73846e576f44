"""Settings → Pass it on: a creator's list of onward shares, replaced whole
through ``payouts.onward.onward_set``, with a preview on last month's net."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.http import AuthenticatedHttpRequest
from payouts import onward_selectors
from payouts.forms import OnwardForm, posted_rows
from payouts.onward import OnwardRefused, onward_set
from payouts.rules import ONWARD_MAX_ENTRIES


@login_required
def onward_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    creator = request.user
    status = 200
    if request.method == "POST":
        form = OnwardForm(request.POST, rows=posted_rows(request.POST))
        if form.is_valid():
            try:
                onward_set(creator=creator, entries=form.cleaned_data["entries"])
            except OnwardRefused as exc:
                form.add_error(None, exc.line)
            else:
                messages.success(request, _("Your list of onward shares is saved."))
                return redirect("onward_settings")
        status = 400
    else:
        initial, rows = OnwardForm.initial_rows(onward_selectors.onward_rows(creator=creator))
        form = OnwardForm(initial=initial, rows=rows)
    return render(
        request,
        "payouts/onward_settings.html",
        {
            "form": form,
            "preview": onward_selectors.onward_preview(creator=creator),
            "max_entries": ONWARD_MAX_ENTRIES,
        },
        status=status,
    )
