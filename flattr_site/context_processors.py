from django.conf import settings


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "CURRENCY": settings.CURRENCY,
        "TEST_MODE_PAYMENTS": _test_mode_payments(),
    }


def _test_mode_payments() -> bool:
    """Whether the configured payment gateway moves no real money."""
    from payments.gateways import GatewayUnavailable, gateway_current

    try:
        return gateway_current().is_test
    except GatewayUnavailable:  # a misspelt PAYMENT_GATEWAY: say so loudly
        return True
