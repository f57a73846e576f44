from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import csv as safe_csv
from core.db_router import replica_reads
from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payments.withdrawals import selectors, services
from payments.withdrawals.forms import WithdrawForm
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus, WithdrawalStatus


@login_required
def earnings(request):
    user = request.user
    balance = ledger_selectors.earnings_balance(user=user)
    form = WithdrawForm(request.POST or None, balance=balance)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                withdrawal = services.withdrawal_request(
                    user=user, amount_cents=form.cleaned_data["amount"]
                )
            except services.WithdrawalRefused as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                if withdrawal.status == WithdrawalStatus.AWAITING_REVIEW:
                    messages.info(
                        request, _("Your withdrawal is waiting for a quick review by our team.")
                    )
                else:
                    messages.success(request, _("Your withdrawal is on its way."))
                return redirect("earnings")
        else:
            status = 400
    rows = selectors.monthly_earnings(user=user)
    # One read of the withdrawals for the whole page: a worker paying one
    # between two reads made the notice say "Processing" above a "Paid" row.
    withdrawals = list(user.withdrawals.all()[:24])
    open_withdrawal = next((w for w in withdrawals if w.is_open), None)
    return render(
        request,
        "withdrawals/earnings.html",
        {
            "balance": balance,
            "pending": ledger_selectors.user_balance(
                user=user, kind=AccountKind.PENDING_WITHDRAWAL
            ),
            "account": PayoutAccount.objects.filter(user=user).first(),
            "open_withdrawal": open_withdrawal,
            "withdrawals": withdrawals,
            "form": form,
            "rows": rows,
            "onward": any(row["passed_on"] or row["received_onward"] for row in rows),
            "chart": selectors.chart(rows=rows),
            "test_gateway": services.simulated_gateway_available(),
            "min_withdrawal": settings.FLATTR_MIN_WITHDRAWAL_CENTS,
        },
        status=status,
    )


@replica_reads
@login_required
def earnings_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="earnings.csv"'
    writer = safe_csv.writer(response)
    # The onward columns come last: a reader of the first four keeps working.
    writer.writerow(
        ["month", "gross_cents", "fee_cents", "net_cents", "passed_on", "received_onward"]
    )
    for row in selectors.monthly_earnings(user=request.user):
        writer.writerow(
            [
                row["month"],
                row["gross"],
                row["fee"],
                row["net"],
                row["passed_on"],
                row["received_onward"],
            ]
        )
    return response


@login_required
@require_POST
def payout_account_connect(request):
    try:
        _account, url = services.payout_account_start(user=request.user)
    except services.WithdrawalRefused as exc:
        messages.error(request, str(exc))
        return redirect("earnings")
    return redirect(url)


@login_required
def payout_account_test(request):
    if not services.simulated_gateway_available():
        raise Http404(_("The test-mode gateway is not available."))
    account = PayoutAccount.objects.filter(user=request.user, test_mode=True).first()
    if account is None:
        return redirect("earnings")
    if request.method == "POST":
        status = {
            "complete": PayoutAccountStatus.ENABLED,
            "restrict": PayoutAccountStatus.RESTRICTED,
        }.get(request.POST.get("action"))
        if status is None:
            return render(
                request, "withdrawals/test_onboarding.html", {"account": account}, status=400
            )
        services.payout_account_test_set(user=request.user, status=status)
        messages.success(request, _("Test payout account: %(status)s.") % {"status": status})
        return redirect("earnings")
    return render(request, "withdrawals/test_onboarding.html", {"account": account})
