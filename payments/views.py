import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from payments import selectors, services
from payments.forms import PRESETS_CENTS, TopUpForm
from payments.gateways import GatewayError, GatewayUnreachable, gateway_current
from payments.models import Gateway, TopUp, TopUpStatus
from payments.webhooks import WebhookDeferred, WebhookMalformed

logger = logging.getLogger(__name__)


def _safe_next(request) -> str | None:
    """A same-site path to return to after paying, or None. Raises
    ValueError for a URL pointing at another site."""
    target = request.POST.get("next") or request.GET.get("next")
    if not target:
        return None
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        raise ValueError(target)
    return target


@login_required
def wallet(request):
    account = ledger_services.wallet_account(user=request.user)
    page = ledger_selectors.statement_page(account=account, page=request.GET.get("page", 1))
    return render(
        request,
        "payments/wallet.html",
        {
            "owed": ledger_selectors.receivable_owed(user=request.user),
            "pending": selectors.topups_pending(user=request.user),
            "page": page,
            "lines": selectors.statement_lines(postings=list(page)),
        },
    )


@login_required
def topup(request):
    try:
        next_url = _safe_next(request)
    except ValueError:
        return HttpResponseBadRequest(_("The return address must be on this site."))
    data = request.POST or None
    if data is not None and data.get("preset"):
        # A suggested-amount button: its value wins over the (empty) field.
        data = data.copy()
        data["amount"] = data["preset"]
    form = TopUpForm(data)
    context = {
        "form": form,
        "presets": PRESETS_CENTS,
        "next": next_url or "",
        "unavailable": not gateway_current().available(),
    }
    if context["unavailable"]:
        return render(
            request, "payments/topup.html", context, status=503 if request.method == "POST" else 200
        )
    if request.method == "POST" and form.is_valid():
        try:
            topup_row, url = services.topup_create(
                user=request.user, amount_cents=form.cleaned_data["amount"]
            )
        except services.TopUpUnavailable:
            context["unavailable"] = True
            return render(request, "payments/topup.html", context, status=503)
        except GatewayError as exc:
            # The top-up is saved; nothing was charged. Trying again is safe.
            logger.warning("could not start a checkout: %s", exc)
            form.add_error(None, _("The payment processor could not be reached. Try again."))
            return render(request, "payments/topup.html", context, status=503)
        if next_url:
            request.session[f"topup_next_{topup_row.pk}"] = next_url
        return redirect(url)
    return render(request, "payments/topup.html", context, status=400 if form.errors else 200)


def _own_topup(request, pk: int) -> TopUp:
    return get_object_or_404(TopUp, pk=pk, user=request.user)


@login_required
def topup_return(request, pk: int):
    topup_row = _own_topup(request, pk)
    if request.GET.get("cancelled") and topup_row.status == TopUpStatus.PENDING:
        messages.info(request, _("The payment was cancelled. Nothing was charged."))
    return render(
        request,
        "payments/topup_return.html",
        {"topup": topup_row, "next": request.session.get(f"topup_next_{pk}", "")},
    )


@login_required
@require_POST
def topup_cancel(request, pk: int):
    topup_row = _own_topup(request, pk)
    try:
        services.topup_cancel(topup=topup_row, user=request.user)
    except services.TopUpRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The top-up was cancelled. Nothing was charged."))
    return redirect("wallet")


@login_required
def topup_test_checkout(request, pk: int):
    topup_row = _own_topup(request, pk)
    if topup_row.gateway != Gateway.TEST or not services.simulated_gateway_available():
        raise Http404(_("The test-mode gateway is not available."))
    if request.method == "POST" and topup_row.status == TopUpStatus.PENDING:
        if request.POST.get("action") == "pay":
            services.simulated_checkout_pay(topup=topup_row)
            messages.success(request, _("Test payment succeeded. Your wallet was credited."))
        else:
            services.simulated_checkout_fail(topup=topup_row)
            messages.warning(request, _("Test payment failed. Nothing was credited."))
        return redirect("topup_return", pk=topup_row.pk)
    fee = services.simulated_gateway_fee(topup_row.amount_cents)
    return render(
        request,
        "payments/test_checkout.html",
        {"topup": topup_row, "fee": fee, "net": topup_row.amount_cents - fee},
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = services.webhook_parse(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookMalformed as exc:
        services.webhook_malformed_record(error=exc)
        return JsonResponse({"error": str(exc), "result": "malformed"}, status=400)
    except ValueError as exc:
        logger.warning("stripe webhook refused: %s", exc)
        return JsonResponse({"error": str(exc)}, status=400)
    try:
        result = services.webhook_event_process(event=event)
    except GatewayUnreachable:
        logger.warning("stripe webhook %s: Stripe unreachable; Stripe will retry", event["id"])
        return JsonResponse({"error": "temporary failure, retry later"}, status=503)
    except WebhookDeferred as exc:
        logger.warning("stripe webhook %s deferred: %s; Stripe will retry", event["id"], exc)
        return JsonResponse({"error": "temporary failure, retry later"}, status=503)
    except Exception:
        # Nothing was kept (one transaction); Stripe retries later.
        logger.exception("stripe webhook %s failed; Stripe will retry", event.get("id"))
        return JsonResponse({"error": "temporary failure, retry later"}, status=503)
    if result == "malformed":
        return JsonResponse({"error": "malformed event", "result": result}, status=400)
    return JsonResponse({"received": True, "result": result})
