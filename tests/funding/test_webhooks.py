"""Signed Stripe events of after-mode charges reach funding's handlers:
each moves money once, whatever the order or how often it comes."""

import pytest

from funding.models import Charge, ChargeStatus
from funding.selectors import run_figures
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from payouts.models import PayoutRun
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle
from tests.stripe_fake import post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(stripe_fake, after, admin_user):
    claire = UserFactory()
    ready(claire)
    sophie = UserFactory(monthly_budget_cents=100)
    flattr(sophie, thing(owner=claire), P)
    method(sophie, "pm_card_authenticationRequired")
    approve()
    settle()
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.REQUIRES_ACTION
    return sophie, charge


def intent(pi: str, status: str) -> dict:
    return {"id": pi, "object": "payment_intent", "status": status, "metadata": {}}


def test_a_succeeded_event_completes_the_waiting_charge_once(client, waiting):
    sophie, charge = waiting
    pi = charge.payment_intent_id
    for event_id in ("evt_1", "evt_1", "evt_2"):
        response = post_event(client, "payment_intent.succeeded", intent(pi, "succeeded"), event_id)
        assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED
    assert Transaction.objects.filter(idempotency_key__startswith="charge:").count() == 1
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    # A late "requires_action" after success moves nothing.
    late = post_event(client, "payment_intent.requires_action", intent(pi, "requires_action"))
    assert late.status_code == 200
    assert Charge.objects.get().status == ChargeStatus.SUCCEEDED
    figures = settle()
    assert figures["transferred"] == {"count": 1, "cents": 90}
    assert ledger_problems() == []


def test_an_event_for_no_charge_of_ours_is_a_harmless_no_op(client, waiting):
    response = post_event(client, "payment_intent.succeeded", intent("pi_stranger", "succeeded"))
    assert response.status_code == 200
    assert Charge.objects.get().status == ChargeStatus.REQUIRES_ACTION


def test_a_dispute_event_after_success_is_recovered_once(client, waiting):
    sophie, charge = waiting
    pi = charge.payment_intent_id
    post_event(client, "payment_intent.succeeded", intent(pi, "succeeded"))
    settle()
    dispute = {
        "id": "dp_9",
        "object": "dispute",
        "charge": "ch_9",
        "payment_intent": pi,
        "amount": 100,
    }
    for event_id in ("evt_d1", "evt_d2"):
        assert post_event(client, "charge.dispute.created", dispute, event_id).status_code == 200
    figures = run_figures(run=PayoutRun.objects.get())
    assert figures["disputed"] == {"count": 1, "cents": 100}
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []
