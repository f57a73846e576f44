import pytest

from tests.factories import UserFactory
from tests.payments.helpers import pay_topup


@pytest.fixture
def paid_topup(client, stripe_fake):
    """A supporter who topped up 8 EUR through Stripe (fee 0.37)."""
    user = UserFactory()
    return user, pay_topup(client, stripe_fake, user)
