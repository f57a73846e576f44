import pytest

from tests.factories import UserFactory


@pytest.fixture
def after(settings):
    """After mode with the test gateway (which wants DEBUG) and transfers in
    the same settle."""
    settings.FLATTR_FUNDING = "after"
    settings.PAYMENT_GATEWAY = "test"
    settings.DEBUG = True
    settings.FLATTR_TRANSFER_AFTER_DAYS = 0
    settings.FLATTR_CHARGE_RETRY_DAYS = [1, 3, 7]
    settings.FLATTR_FEE_PERCENT = 10
    return settings


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")


@pytest.fixture
def stripe_after(settings, after):
    """After mode with the Stripe gateway, against the local server answering
    as Stripe does (tests/payments/stripe_server.py)."""
    from tests.payments.stripe_server import StripeServer
    from tests.stripe_fake import WEBHOOK_SECRET

    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1000
    with StripeServer() as server:
        settings.STRIPE_API_BASE = server.url
        yield server
