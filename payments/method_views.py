"""Pages of a supporter's saved way to pay (``FLATTR_FUNDING=after``): see
it, save or replace it through the processor's page, remove it."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.http import whole_number
from payments import selectors
from payments.gateways import GatewayError, gateway_current
from payments.gateways.test import TEST_PAYMENT_METHODS
from payments.models import Gateway, PaymentMethodSetup, SetupStatus
from payments.services import methods

logger = logging.getLogger(__name__)


def _after_mode_only() -> None:
    if not methods.funding_after():
        raise Http404(_("This site is funded by prepaid wallets."))


@login_required
def payment_method(request):
    _after_mode_only()
    if request.GET.get("cancelled"):
        messages.info(request, _("Nothing was saved."))
    return render(
        request,
        "payments/payment_method.html",
        {"method": selectors.payment_method_active(user=request.user)},
    )


@login_required
@require_POST
def payment_method_setup(request):
    _after_mode_only()
    try:
        url = methods.payment_method_setup_start(user=request.user)
    except methods.MethodRefused as exc:
        messages.error(request, str(exc))
        return redirect("payment_method")
    except GatewayError as exc:
        # The setup row is kept; trying again reuses it (same key).
        logger.warning("could not start a setup checkout: %s", exc)
        messages.error(request, _("The payment processor could not be reached. Try again."))
        return redirect("payment_method")
    return redirect(url)


@login_required
def payment_method_return(request):
    _after_mode_only()
    try:
        method = methods.payment_method_setup_finish(
            user=request.user,
            token=request.GET.get("setup", ""),
            session_id=request.GET.get("session_id", ""),
        )
    except methods.MethodRefused as exc:
        return render(
            request,
            "payments/payment_method.html",
            {"method": selectors.payment_method_active(user=request.user), "error": str(exc)},
            status=400,
        )
    except methods.MethodPending:
        return render(request, "payments/payment_method_pending.html")
    except GatewayError as exc:
        logger.warning("could not read a setup result: %s", exc)
        return render(request, "payments/payment_method_pending.html", status=503)
    messages.success(request, _("Saved: %(method)s.") % {"method": method_label(method)})
    return redirect("payment_method")


def method_label(method) -> str:
    if method.kind == "sepa_debit":
        return _("SEPA Direct Debit ending %(last4)s") % {"last4": method.last4}
    return _("%(brand)s ending %(last4)s") % {
        "brand": (method.brand or _("Card")).title(),
        "last4": method.last4,
    }


@login_required
def payment_method_remove(request):
    _after_mode_only()
    method = selectors.payment_method_active(user=request.user)
    if request.method == "POST":
        method_id = whole_number(request.POST.get("method", ""))
        try:
            if method_id is None:
                raise methods.MethodRefused(_("This way to pay was already removed."))
            methods.payment_method_remove(user=request.user, method_id=method_id)
        except methods.MethodRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Your way to pay was removed."))
        return redirect("payment_method")
    if method is None:
        messages.info(request, _("You have no saved way to pay."))
        return redirect("payment_method")
    return render(request, "payments/payment_method_remove.html", {"method": method})


@login_required
def payment_method_test_checkout(request, session_id: str):
    """Test mode's stand-in for Stripe's setup page."""
    _after_mode_only()
    gateway = gateway_current()
    setup = PaymentMethodSetup.objects.filter(
        session_id=session_id, user=request.user, gateway=Gateway.TEST
    ).first()
    if setup is None or not gateway.is_test or not gateway.available():
        raise Http404(_("The test-mode gateway is not available."))
    if request.method == "POST" and setup.status == SetupStatus.PENDING:
        choice = request.POST.get("payment_method", "")
        if choice not in TEST_PAYMENT_METHODS:
            messages.error(request, _("Choose one of the test payment methods."))
        else:
            PaymentMethodSetup.objects.filter(pk=setup.pk).update(payment_method_id=choice)
            return redirect(
                methods.setup_return_url(setup).replace("{CHECKOUT_SESSION_ID}", session_id)
            )
    return render(
        request,
        "payments/payment_method_test_checkout.html",
        {"setup": setup, "choices": TEST_PAYMENT_METHODS.items()},
        status=400 if request.method == "POST" else 200,
    )
