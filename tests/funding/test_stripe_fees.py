"""The processor's fee of a charge whose success comes by webhook, through
the real ``stripe`` library against the local server answering as Stripe
does (tests/payments/stripe_server.py): a webhook's PaymentIntent is never
expanded, so the fee is asked of Stripe (``latest_charge.balance_transaction``)
before the event's transaction; a SEPA debit whose balance transaction is
not there yet is collected now and its fee booked by a later settle."""

from __future__ import annotations

import pytest

from funding.models import Charge, ChargeStatus
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from ledger.services import account_get
from payments.models import Gateway, PaymentMethod, PaymentMethodKind, WebhookEvent
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import P, approve, ready, settle
from tests.stripe_fake import WEBHOOK_SECRET, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_after(settings, after):
    from tests.payments.stripe_server import StripeServer

    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1000
    with StripeServer() as server:
        settings.STRIPE_API_BASE = server.url
        yield server


def stripe_method(user, pm: str) -> PaymentMethod:
    sepa = pm.startswith("pm_sepa")
    return PaymentMethod.objects.create(
        user=user,
        gateway=Gateway.STRIPE,
        customer_id=f"cus_{user.pk}",
        payment_method_id=pm,
        kind=PaymentMethodKind.SEPA_DEBIT if sepa else PaymentMethodKind.CARD,
        brand="" if sepa else "visa",
        last4="3000" if sepa else "3184",
    )


def charged(pm: str, admin: str = "boss@example.org") -> Charge:
    UserFactory(is_staff=True, is_superuser=True, email=admin)
    claire = UserFactory()
    ready(claire)
    sophie = UserFactory(monthly_budget_cents=1000)
    flattr(sophie, thing(owner=claire), P)
    stripe_method(sophie, pm)
    approve()
    settle()
    return Charge.objects.get()


def fees_booked() -> int:
    return account_get(kind=AccountKind.PROCESSOR_FEES).balance


def test_a_success_by_webhook_books_the_fee_stripe_kept(client, stripe_after):
    charge = charged("pm_card_authenticationRequired")
    assert charge.status == ChargeStatus.REQUIRES_ACTION
    before = fees_booked()
    # The supporter confirmed on Stripe's page; the event's object is the
    # PaymentIntent as Stripe sends it (latest_charge an id, not expanded).
    intent = stripe_after.state.succeed(charge.payment_intent_id, fee=40)
    assert isinstance(intent["latest_charge"], str)
    response = post_event(client, "payment_intent.succeeded", intent)
    assert response.status_code == 200
    charge.refresh_from_db()
    assert (charge.status, charge.fee_cents, charge.fee_pending) == (
        ChargeStatus.SUCCEEDED,
        40,
        False,
    )
    assert fees_booked() - before == 40
    asked = stripe_after.state.requests[-1]
    assert asked["method"] == "get"
    assert asked["path"] == f"/v1/payment_intents/{charge.payment_intent_id}"
    assert asked["params"]["expand[0]"] == "latest_charge.balance_transaction"
    # A replay asks nothing more and books nothing twice.
    calls = len(stripe_after.state.requests)
    assert post_event(client, "payment_intent.succeeded", intent).status_code == 200
    assert len(stripe_after.state.requests) == calls
    assert fees_booked() - before == 40
    settle()
    assert ledger_problems() == []


def test_stripe_rate_limited_during_the_webhook_answers_503_and_keeps_nothing(client, stripe_after):
    charge = charged("pm_card_authenticationRequired")
    intent = stripe_after.state.succeed(charge.payment_intent_id, fee=40)
    stripe_after.state.next_answers.append(
        (429, {"error": {"type": "rate_limit_error", "message": "Too many"}}, {"Retry-After": "1"})
    )
    response = post_event(client, "payment_intent.succeeded", intent, event_id="evt_429")
    assert response.status_code == 503
    assert not WebhookEvent.objects.filter(event_id="evt_429").exists()
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.REQUIRES_ACTION
    # Stripe delivers it again: applied once, with the fee.
    response = post_event(client, "payment_intent.succeeded", intent, event_id="evt_429")
    assert response.status_code == 200
    charge.refresh_from_db()
    assert (charge.status, charge.fee_cents) == (ChargeStatus.SUCCEEDED, 40)


def test_a_sepa_fee_not_known_at_success_is_booked_by_a_later_settle(client, stripe_after):
    charge = charged("pm_sepa_debit_success")
    assert charge.status == ChargeStatus.PROCESSING
    before = fees_booked()
    # The debit clears before its balance transaction exists.
    intent = stripe_after.state.succeed(charge.payment_intent_id, fee=None)
    assert post_event(client, "payment_intent.succeeded", intent).status_code == 200
    charge.refresh_from_db()
    assert (charge.status, charge.fee_cents, charge.fee_pending) == (
        ChargeStatus.SUCCEEDED,
        0,
        True,
    )
    assert fees_booked() == before
    settle()  # still no balance transaction: nothing booked, still pending
    charge.refresh_from_db()
    assert charge.fee_pending
    stripe_after.state.succeed(charge.payment_intent_id, fee=35)
    settle()
    settle()
    charge.refresh_from_db()
    assert (charge.fee_cents, charge.fee_pending) == (35, False)
    assert fees_booked() - before == 35
    assert Transaction.objects.filter(idempotency_key__endswith=":fee").count() == 1
    assert ledger_problems() == []
