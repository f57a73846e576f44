"""The processor's fee of a charge whose success comes by webhook, through
the real ``stripe`` library against the local server answering as Stripe
does (tests/payments/stripe_server.py): a webhook's PaymentIntent is never
expanded, so the fee is asked of Stripe (``latest_charge.balance_transaction``)
before the event's transaction; a SEPA debit whose balance transaction is
not there yet is collected now and its fee booked by a later settle."""

from __future__ import annotations

import pytest

from funding.models import ChargeStatus
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from ledger.services import account_get
from payments.models import WebhookEvent
from tests.funding.helpers import settle, stripe_charged
from tests.stripe_fake import post_event

pytestmark = pytest.mark.django_db


def fees_booked() -> int:
    return account_get(kind=AccountKind.PROCESSOR_FEES).balance


def test_a_success_by_webhook_books_the_fee_stripe_kept(client, stripe_after):
    charge = stripe_charged("pm_card_authenticationRequired")
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
    charge = stripe_charged("pm_card_authenticationRequired")
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


def test_a_sepa_fee_not_known_at_success_is_booked_by_a_later_settle(
    client, stripe_after, settings
):
    settings.FLATTR_SEPA_NOTICE_DAYS = (
        0  # debited at the first settle (tests/funding/test_sepa_hold.py)
    )
    charge = stripe_charged("pm_sepa_debit_success")
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
