"""Claim pages: start a claim, see its token once, check it, follow its
state; and the public list of unclaimed money."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims import checks, selectors, services
from claims.forms import ClaimForm
from claims.models import Claim, ClaimState
from claims.reasons import reason_text

SESSION_TOKEN = "claims:token:%s"


@login_required
def claim_list(request):
    # ?url=&kind= prefill the form (links from "money waiting" notices).
    initial = {k: request.GET[k][:1000] for k in ("url", "kind") if request.GET.get(k)}
    form = ClaimForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            claim, token = services.claim_create(creator=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown once, on the next page view, then gone.
            request.session[SESSION_TOKEN % claim.pk] = token
            return redirect(claim)
    page = Paginator(selectors.claims_of_creator(creator=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request, "claims/claims.html", {"form": form, "page": page},
        status=400 if form.errors else 200,
    )  # fmt: skip


@login_required
def claim_detail(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk, creator=request.user)
    token = request.session.pop(SESSION_TOKEN % claim.pk, None)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "token": token,
            "reason": reason_text(claim.reason_code, claim.reason_params)
            if claim.reason_code
            else "",
            "well_known_path": checks.WELL_KNOWN_PATH,
            "profile_url": services.creator_profile_url(user=request.user),
            "checking": claim.state == ClaimState.CHECKING,
        },
    )


@login_required
@require_POST
def claim_check(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk, creator=request.user)
    services.claim_check_request(claim=claim)
    return redirect(claim)


@login_required
@require_POST
def claim_token(request, pk: int):
    claim = get_object_or_404(Claim, pk=pk, creator=request.user)
    try:
        token = services.claim_token_renew(claim=claim)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        request.session[SESSION_TOKEN % claim.pk] = token
        messages.success(request, _("Here is a new token. The old one no longer works."))
    return redirect(claim)


def unclaimed(request):
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "claims/unclaimed.html",
        {"sites": selectors.unclaimed_sites(query=query), "q": query},
    )
