from functools import cache

from django.conf import settings
from django.db.models import Q


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "CURRENCY": settings.CURRENCY,
        "TEST_MODE_PAYMENTS": _test_mode_payments(),
        # Called by the template only where the menu asks (no query otherwise).
        "NAV_CREATOR": cache(lambda: is_creator(getattr(request, "user", None))),
    }


def is_creator(user) -> bool:
    """Whether the menu shows the creator's pages: the user has things, a
    claim on a site, or earnings (even after deleting their things)."""
    if user is None or not user.is_authenticated:
        return False
    from buttons.models import Thing
    from claims.models import Claim
    from ledger.models import Account, AccountKind

    return (
        Thing.objects.filter(owner=user).exists()
        or Claim.objects.filter(creator=user).exists()
        or Account.objects.filter(user=user, kind=AccountKind.EARNINGS)
        .filter(Q(balance__gt=0) | Q(postings__isnull=False))
        .exists()
    )


def _test_mode_payments() -> bool:
    """Whether the configured payment gateway moves no real money."""
    from payments.gateways import GatewayUnavailable, gateway_current

    try:
        return gateway_current().is_test
    except GatewayUnavailable:  # a misspelt PAYMENT_GATEWAY: say so loudly
        return True
