import pytest

from tests.factories import UserFactory
from tests.payments.helpers import start_topup
from tests.stripe_fake import payment_intent, post_event, session_obj


@pytest.fixture
def paid_topup(client, stripe_fake):
    """A supporter who topped up 8 EUR through Stripe (fee 0.37)."""
    user = UserFactory()
    _, topup = start_topup(client, user)
    stripe_fake.route(
        "get",
        f"/v1/payment_intents/pi_{topup.pk}",
        payment_intent(f"pi_{topup.pk}", 37, f"ch_{topup.pk}"),
    )
    assert post_event(client, "checkout.session.completed", session_obj(topup)).status_code == 200
    topup.refresh_from_db()
    return user, topup
