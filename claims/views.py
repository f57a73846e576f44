"""Claim pages: start a claim, see its token once, check it, follow its
state; prove accounts elsewhere; and the public list of unclaimed money."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from claims import checks, proof_services, selectors, services
from claims.forms import ClaimForm, FediverseProofForm
from claims.models import Claim, ClaimState, ProofStatus, ProvenAccount
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


# --- Proven accounts (a fediverse account, GitHub) -------------------------


@login_required
def proven_accounts(request):
    """List the creator's proven accounts; POST proves a fediverse account
    (the instance is asked while the creator waits, for a few seconds at
    most)."""
    form = FediverseProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = proof_services.fediverse_proof_add(
                user=request.user, handle=form.cleaned_data["handle"]
            )
        except ValidationError as exc:
            form.add_error("handle", exc)
        else:
            messages.success(request, _proven_message(account))
            return redirect("proven_accounts")
    accounts = [
        (account, reason_text(account.reason_code, account.reason_params))
        for account in selectors.proven_accounts_of_creator(creator=request.user)
    ]
    return render(
        request,
        "claims/proven_accounts.html",
        {
            "form": form,
            "accounts": accounts,
            "profile_url": services.creator_profile_url(user=request.user),
            "payment_link_json": json.dumps(
                selectors.fediverse_payment_link(user=request.user), indent=2
            ),
        },
        status=400 if form.errors else 200,
    )


def _proven_message(account) -> str:
    return ngettext(
        "%(handle)s is proven. %(count)s unclaimed thing of it is now yours; the money "
        "held for it is paid to you at the next monthly run.",
        "%(handle)s is proven. %(count)s unclaimed things of it are now yours; the money "
        "held for them is paid to you at the next monthly run.",
        account.assigned_count,
    ) % {"handle": account.handle, "count": account.assigned_count}


@login_required
@require_POST
def proven_account_check(request, pk: int):
    account = get_object_or_404(ProvenAccount, pk=pk, user=request.user)
    try:
        account = proof_services.proven_account_recheck(account=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if account.status == ProofStatus.ACTIVE:
            messages.success(request, _proven_message(account))
        else:
            messages.error(request, reason_text(account.reason_code, account.reason_params))
    return redirect("proven_accounts")


@login_required
@require_POST
def proven_account_remove(request, pk: int):
    account = get_object_or_404(ProvenAccount, pk=pk, user=request.user)
    proof_services.proven_account_remove(account=account)
    messages.success(
        request,
        _("%(handle)s is no longer proven. Things already yours stay yours.")
        % {"handle": account.handle},
    )
    return redirect("proven_accounts")
