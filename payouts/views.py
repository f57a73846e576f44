from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedHttpRequest
from payouts import selectors


@login_required
def my_months(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "payouts/my_months.html",
        {
            "preview": selectors.supporter_month_preview(user=request.user),
            "months": selectors.supporter_months(user=request.user),
        },
    )
