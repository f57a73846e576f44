import pytest

from payments import stripe_client
from tests.stripe_fake import WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def stripe_fake(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SITE_URL = "http://testserver"
    fake = FakeStripe()
    stripe_client.HTTP_CLIENT_FACTORY = lambda: fake
    sessions = iter(range(1, 10_000))

    def create_session(params, call):
        n = next(sessions)
        return {
            "id": f"cs_test_{n}",
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
            "client_reference_id": params.get("client_reference_id"),
        }

    fake.route("post", "/v1/checkout/sessions", create_session)
    yield fake
    stripe_client.HTTP_CLIENT_FACTORY = None


def payment_intent(pi_id: str, fee: int, charge_id: str = "ch_1") -> dict:
    return {
        "id": pi_id,
        "object": "payment_intent",
        "latest_charge": {
            "id": charge_id,
            "object": "charge",
            "balance_transaction": {"id": "txn_1", "object": "balance_transaction", "fee": fee},
        },
    }
