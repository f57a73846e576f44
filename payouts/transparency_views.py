"""/transparency/ (figures, chart, commitments, CSV and JSON) and each
person's proof download."""

import csv
import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.db_router import replica_reads
from core.http import AuthenticatedHttpRequest
from payouts import transparency, transparency_report
from payouts.models import RunCommitment

# The command-line verifier, served as a download (standard library only).
VERIFIER = settings.BASE_DIR / "scripts" / "verify_statement.py"


def verify_messages() -> dict[str, str]:
    """What static/js/verify_statement.js says, translated ({name}: filled
    in by the script)."""
    return {
        "ok": _(
            "OK: your lines of {period} ({lines}) lead to the root published for {period}, {root}."
        ),
        "no_file": _("Choose your proof file first."),
        "no_crypto": _(
            "This browser cannot compute SHA-256 on this page (WebCrypto needs HTTPS): "
            "use the command-line verifier."
        ),
        "unreadable": _("This file cannot be read as JSON."),
        "not_proof": _("This file is not an Open Flattr statement proof (version 1)."),
        "no_lines": _("The proof has no lines."),
        "malformed": _("The proof is malformed: {detail} is missing or wrong."),
        "line_mismatch": _(
            "Line {number} ({kind}) does not lead to the Merkle root: "
            "its amounts, salt or path were changed."
        ),
        "chain_mismatch": _(
            "The root in the file is not the Merkle root chained with the previous root."
        ),
        "no_month": _("No root is published on this page for {period}."),
        "root_differs": _(
            "The proof leads to {computed}, but the root published for {period} is {published}."
        ),
        "previous_differs": _(
            "The month is chained to {found}, but the root published for {previous} is {published}."
        ),
    }


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
            "verify_messages": verify_messages(),
        },
    )


def verifier_download(request: HttpRequest) -> FileResponse:
    """scripts/verify_statement.py, to check a proof on one's own machine."""
    try:
        handle = VERIFIER.open("rb")
    except OSError:
        raise Http404(_("The verifier is not installed here."))
    return FileResponse(
        handle,
        as_attachment=True,
        filename="verify_statement.py",
        content_type="text/x-python; charset=utf-8",
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
