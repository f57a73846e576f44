"""The money border: one gateway interface, no Stripe call inside a database
transaction, and a lost answer healed by the idempotency key."""

import pytest
from django.test import Client
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import Transaction
from payments import services
from payments.gateways import GatewayUnreachable, gateway_current
from payments.models import Gateway, TopUp, TopUpStatus
from tests.factories import UserFactory
from tests.stripe_fake import payment_intent, post_event


@pytest.fixture
def watching_stripe(watching_stripe):
    """Checkout sessions named after their top-up (``cs_<id>``)."""
    watching_stripe.route(
        "post",
        "/v1/checkout/sessions",
        lambda params, call: {
            "id": f"cs_{params['client_reference_id']}",
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_{params['client_reference_id']}",
        },
    )
    return watching_stripe


def completed_session(topup: TopUp) -> dict:
    return {
        "id": f"cs_{topup.pk}",
        "object": "checkout.session",
        "client_reference_id": str(topup.pk),
        "amount_total": topup.amount_cents,
        "currency": "eur",
        "payment_status": "paid",
        "payment_intent": f"pi_{topup.pk}",
    }


@pytest.mark.django_db(transaction=True)
def test_topup_create_calls_stripe_with_no_transaction_open(watching_stripe):
    topup, url = services.topup_create(user=UserFactory(), amount_cents=800)
    (call,) = watching_stripe.calls
    assert call["path"] == "/v1/checkout/sessions"
    assert call["idempotency_key"] == f"topup:{topup.pk}"
    assert call["in_atomic"] is False
    topup.refresh_from_db()
    assert topup.checkout_session_id == f"cs_{topup.pk}"
    assert url.endswith(f"cs_{topup.pk}")


@pytest.mark.django_db(transaction=True)
def test_webhook_fee_lookup_calls_stripe_with_no_transaction_open(watching_stripe):
    user = UserFactory()
    topup, _url = services.topup_create(user=user, amount_cents=800)
    watching_stripe.route(
        "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
    )
    response = post_event(Client(), "checkout.session.completed", completed_session(topup))
    assert response.json()["result"] == "processed"
    lookup = next(c for c in watching_stripe.calls if c["path"].startswith("/v1/payment_intents"))
    assert lookup["in_atomic"] is False
    assert ledger_selectors.wallet_balance(user=user) == 763


@pytest.mark.django_db(transaction=True)
def test_checkout_answer_lost_in_a_crash_is_healed_by_the_key_and_credits_once(watching_stripe):
    user = UserFactory()
    # Stripe creates the session, but its answer is lost: our side never
    # records it.
    watching_stripe.lose_responses = 1
    with pytest.raises(GatewayUnreachable):
        services.topup_create(user=user, amount_cents=800)
    topup = TopUp.objects.get()
    assert topup.status == TopUpStatus.PENDING and topup.checkout_session_id is None
    # The retry sends the same key and gets the same session back.
    url = services.topup_checkout_start(topup=topup)
    assert url.endswith(f"cs_{topup.pk}")
    sessions = [c for c in watching_stripe.calls if c["path"] == "/v1/checkout/sessions"]
    assert {c["idempotency_key"] for c in sessions} == {f"topup:{topup.pk}"}
    assert len(watching_stripe.by_key) == 1
    topup.refresh_from_db()
    assert topup.checkout_session_id == f"cs_{topup.pk}"
    watching_stripe.route(
        "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
    )
    for _ in range(2):
        post_event(Client(), "checkout.session.completed", completed_session(topup))
    assert ledger_selectors.wallet_balance(user=user) == 763
    assert Transaction.objects.filter(kind="topup").count() == 1


@pytest.mark.django_db
def test_lost_checkout_answer_in_the_view_is_a_clear_503_and_charges_nothing(
    client, watching_stripe
):
    user = UserFactory()
    client.force_login(user)
    watching_stripe.lose_responses = 1
    response = client.post(reverse("topup"), {"amount": "8"})
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    assert ledger_selectors.wallet_balance(user=user) == 0


class TestChoosingTheGateway:
    def test_stripe_when_a_key_is_set(self, settings):
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        settings.PAYMENT_GATEWAY = ""
        gateway = gateway_current()
        assert (gateway.name, gateway.is_test, gateway.available()) == (Gateway.STRIPE, False, True)

    def test_test_mode_without_a_key_only_while_debugging(self, settings):
        settings.STRIPE_SECRET_KEY = ""
        settings.PAYMENT_GATEWAY = ""
        settings.DEBUG = True
        assert gateway_current().name == Gateway.TEST
        assert gateway_current().available()
        settings.DEBUG = False
        assert not gateway_current().available()

    def test_test_mode_is_refused_with_debug_off_even_when_chosen(self, settings):
        settings.STRIPE_SECRET_KEY = "sk_live_x"
        settings.PAYMENT_GATEWAY = "test"
        settings.DEBUG = False
        assert gateway_current().name == Gateway.TEST
        assert not gateway_current().available()
        with pytest.raises(services.TopUpUnavailable):
            services.topup_create(user=None, amount_cents=800)


@pytest.mark.django_db
def test_a_paid_checkout_without_a_settled_fee_yet_is_retried_not_dropped(watching_stripe):
    user = UserFactory()
    topup, _url = services.topup_create(user=user, amount_cents=800)
    intent = payment_intent(f"pi_{topup.pk}", 37)
    intent["latest_charge"]["balance_transaction"] = None
    watching_stripe.route("get", f"/v1/payment_intents/pi_{topup.pk}", intent)
    session = completed_session(topup)
    first = post_event(Client(), "checkout.session.completed", session, event_id="evt_early")
    assert first.status_code == 503  # Stripe delivers it again later
    watching_stripe.route(
        "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
    )
    again = post_event(Client(), "checkout.session.completed", session, event_id="evt_early")
    assert again.json()["result"] == "processed"
    assert ledger_selectors.wallet_balance(user=user) == 763
