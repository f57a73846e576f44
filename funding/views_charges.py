"""A supporter's charge that waits for them (strong customer
authentication): our page says what it is for, sends them to the
processor's page to confirm, and takes them back (``charge_confirmed``),
where the charge is asked again and completes. In test mode the gateway's
"processor page" is our return URL: arriving there is the confirmation."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from funding.models import Charge, ChargeStatus
from funding.services import charge_confirm_url, charge_refresh, charge_succeeded
from payments.gateways import GatewayError, gateway_get
from payments.models import PaymentMethod

logger = logging.getLogger(__name__)


def _my_charge(request: HttpRequest, pk: int) -> Charge:
    """The signed-in supporter's own charge; someone else's is a 404."""
    charge = (
        Charge.objects.select_related("run").filter(pk=pk, supporter_id=request.user.pk).first()
    )
    if charge is None:
        raise Http404(_("No such payment."))
    return charge


@login_required
def charge_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    charge = _my_charge(request, pk)
    waiting = charge.status == ChargeStatus.REQUIRES_ACTION and bool(charge.payment_intent_id)
    if request.method == "POST" and waiting:
        back = request.build_absolute_uri(reverse("charge_confirmed", args=[charge.pk]))
        try:
            return redirect(charge_confirm_url(charge=charge, return_url=back))
        except (ValueError, GatewayError) as exc:
            logger.warning("no confirm page for charge %s: %s", charge.pk, exc)
            messages.error(request, _("The payment processor could not be reached. Try again."))
            return redirect("charge_confirm", charge.pk)
    if request.method == "POST":
        messages.info(request, _("This payment does not need your confirmation."))
        return redirect("my_months")
    return render(request, "funding/charge_confirm.html", {"charge": charge, "waiting": waiting})


def _confirmed_in_test_mode(charge: Charge) -> bool:
    attempt = charge.attempts_made.filter(number=charge.attempts).first()
    if attempt is None:
        return False
    method = (
        PaymentMethod.objects.filter(
            user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
        )
        .order_by("-pk")
        .first()
    )
    return method is not None and gateway_get(method.gateway).is_test


@login_required
def charge_confirmed(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from the processor: the charge is asked again (in test mode the
    return itself is the confirmation). A return naming another payment
    than the charge's is refused; nothing moves twice (``charge_update``
    applies an outcome once)."""
    charge = _my_charge(request, pk)
    named = request.GET.get("payment_intent", "")
    if named and named != charge.payment_intent_id:
        messages.error(request, _("This confirmation link is not for this payment."))
        return redirect("my_months")
    if charge.status == ChargeStatus.REQUIRES_ACTION:
        if named and _confirmed_in_test_mode(charge):
            # The test gateway charges no processor fee (a known 0).
            charge_succeeded(payment_intent_id=charge.payment_intent_id, fee_cents=0)
        else:
            charge_refresh(charge_id=charge.pk)
        charge.refresh_from_db()
    if charge.status == ChargeStatus.SUCCEEDED:
        messages.success(request, _("Thank you: your payment went through."))
    elif charge.status == ChargeStatus.PROCESSING:
        messages.info(request, _("Your payment is being processed."))
    elif charge.status == ChargeStatus.REQUIRES_ACTION:
        messages.warning(request, _("Your payment still waits for your confirmation."))
    else:
        messages.error(request, _("Your payment did not go through."))
    return redirect("my_months")
