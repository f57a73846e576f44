"""/transparency/ (figures, chart, commitments, CSV and JSON) and each
person's proof download."""

import csv
import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.db_router import replica_reads
from core.http import AuthenticatedHttpRequest
from payouts import transparency, transparency_report
from payouts.models import RunCommitment


@replica_reads
def transparency_page(request: HttpRequest) -> HttpResponse:
    months = transparency_report.transparency_months()
    return render(
        request,
        "payouts/transparency.html",
        {
            "months": months,
            "chart": transparency_report.transparency_chart(months=months),
            "fee_percent": settings.FLATTR_FEE_PERCENT,
            "unclaimed_months": settings.FLATTR_UNCLAIMED_MONTHS,
        },
    )


@replica_reads
def transparency_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "currency": settings.CURRENCY,
            "amounts_in": "cents",
            "fee_percent": settings.FLATTR_FEE_PERCENT,
            "months": transparency_report.transparency_months(),
        }
    )


@replica_reads
def transparency_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="open-flattr-transparency.csv"'
    writer = csv.DictWriter(response, fieldnames=transparency_report.MONTH_FIELDS)
    writer.writeheader()
    # Only numbers, dates and hex roots: nothing a spreadsheet could run.
    writer.writerows(transparency_report.transparency_months())
    return response


@login_required
def statement_proof(request: AuthenticatedHttpRequest, period: str) -> JsonResponse:
    try:
        start = dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        raise Http404(_("No such month."))
    commitment = RunCommitment.objects.select_related("run").filter(period=start).first()
    if commitment is None:
        raise Http404(_("This month has not been posted yet."))
    proof = transparency.proof_for(commitment=commitment, user_id=request.user.pk)
    if proof is None:
        raise Http404(_("You have no line in this month."))
    response = JsonResponse(proof, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="open-flattr-proof-{period}.json"'
    return response
