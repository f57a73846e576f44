from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from payouts import selectors


@login_required
def my_months(request):
    return render(
        request,
        "payouts/my_months.html",
        {
            "preview": selectors.supporter_month_preview(user=request.user),
            "months": selectors.supporter_months(user=request.user),
        },
    )
