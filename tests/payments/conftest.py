import pytest

from tests.factories import UserFactory
from tests.payments.helpers import pay_topup


@pytest.fixture
def paid_topup(client, stripe_fake):
    """A supporter who topped up 8 EUR through Stripe (fee 0.37)."""
    user = UserFactory()
    return user, pay_topup(client, stripe_fake, user)


@pytest.fixture
def stripe_server(settings):
    """A local server answering as Stripe does, reached by the real
    ``stripe`` library over HTTP (tests/payments/stripe_server.py)."""
    from tests.payments.stripe_server import StripeServer
    from tests.stripe_fake import WEBHOOK_SECRET

    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENT_GATEWAY = "stripe"
    settings.SITE_URL = "http://testserver"
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1000
    with StripeServer() as server:
        settings.STRIPE_API_BASE = server.url
        yield server


@pytest.fixture
def after_mode(settings):
    settings.FLATTR_FUNDING = "after"
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def saved_signals():
    """Every payment_method_saved signal sent, as (user id, method id)."""
    from payments.signals import payment_method_saved

    sent: list[tuple[int, int]] = []

    def receiver(sender, user, method, **kwargs):
        sent.append((user.pk, method.pk))

    payment_method_saved.connect(receiver)
    yield sent
    payment_method_saved.disconnect(receiver)
