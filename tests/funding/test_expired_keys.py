"""Exactly once when an idempotency key has expired: a charge, a transfer
or a reversal left in flight for more than a day (everything down that long) is sent
again only after looking for the object Stripe may already have made, since
Stripe may have pruned the key by then (docs.stripe.com/api/
idempotent_requests: keys are kept at least 24 hours) and would make a new
object. Against the local server answering as Stripe does, which forgets
its keys when told to."""

from __future__ import annotations

import datetime as dt
import time
from typing import cast

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from funding.models import (
    Charge,
    ChargeStatus,
    CreatorPayout,
    Recovery,
    RecoveryStatus,
    Transfer,
    TransferStatus,
)
from funding.selectors import run_figures
from funding.services import dispute_recorded, run_settle
from funding.services.charges import KEY_SAFE_AGE, _claim
from funding.services.credits import run_reconcile
from funding.services.settle import charges_run
from funding.services.transfers import transfers_plan
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from payments import stripe_client
from payments.gateways.base import Dispute
from payouts.models import PayoutRun
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle, stripe_method

pytestmark = pytest.mark.django_db(transaction=True)

A_DAY_LATER = dt.timedelta(hours=25)


@pytest.fixture(autouse=True)
def no_workers(monkeypatch):
    """No worker takes the queued charging (Celery is eager in tests): the
    settles of each test do it."""
    from funding import tasks

    monkeypatch.setattr(tasks.charge_chunk, "delay", lambda *args: None)


def month(*, creator_ready: bool = True, pm: str = "pm_card_visa") -> tuple[User, User, PayoutRun]:
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    claire = cast(User, UserFactory())
    if creator_ready:
        ready(claire)
    sophie = cast(User, UserFactory(monthly_budget_cents=1000))
    flattr(sophie, thing(owner=claire), P)
    stripe_method(sophie, pm)
    approve()
    return claire, sophie, PayoutRun.objects.get()


def answers_lost(server, monkeypatch) -> None:
    """Stripe does the work but its answer never comes back: the call's
    deadline passes first (the worker sees a timeout, nothing recorded)."""
    monkeypatch.setattr(stripe_client, "DEADLINE", 0.5)
    server.state.delay = 1.0


def stripe_back(server, kind: str, count: int) -> None:
    """Wait until Stripe has made the objects whose answers were lost, then
    a day passes: it answers at once again and has pruned every key."""
    deadline = time.monotonic() + 5
    while len(server.state.of_kind(kind)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.state.of_kind(kind)) == count
    time.sleep(0.2)  # the handler has written its answer too
    server.state.delay = 0.0
    server.state.forget_keys()


def test_a_charge_made_but_unrecorded_for_a_day_is_adopted_not_made_again(
    stripe_after, monkeypatch
):
    claire, sophie, run = month()
    answers_lost(stripe_after, monkeypatch)
    assert settle()["waiting"] == {"count": 1, "cents": 1000}
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.IN_FLIGHT
    stripe_back(stripe_after, "payment_intent", 1)
    monkeypatch.setattr(stripe_client, "DEADLINE", 60.0)

    run_settle(run=run, now=timezone.now() + A_DAY_LATER)

    intents = stripe_after.state.of_kind("payment_intent")
    assert len(intents) == 1, "the supporter was charged twice"
    charge.refresh_from_db()
    assert (charge.status, charge.payment_intent_id) == (ChargeStatus.SUCCEEDED, intents[0]["id"])
    # Found by its key in our metadata, among the customer's intents.
    lookup = [r for r in stripe_after.state.requests if r["method"] == "get"]
    assert lookup[0]["path"] == "/v1/payment_intents"
    assert lookup[0]["params"]["customer"] == f"cus_{sophie.pk}"
    assert intents[0]["metadata"]["key"] == f"charge:{run.pk}:{sophie.pk}"
    # Booked once, with the fee of the charge Stripe made.
    assert Transaction.objects.filter(idempotency_key__startswith="charge:").count() == 1
    assert charge.fee_cents == (1000 * 15 + 500) // 1000 + 25
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    figures = run_figures(run=run)
    assert figures["succeeded"] == {"count": 1, "cents": 1000}
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_charge_that_never_reached_stripe_is_sent_after_a_day(stripe_after, settings):
    claire, sophie, run = month()
    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    settle()
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.IN_FLIGHT
    settings.STRIPE_API_BASE = base

    run_settle(run=run, now=timezone.now() + A_DAY_LATER)

    intents = stripe_after.state.of_kind("payment_intent")
    assert len(intents) == 1
    charge.refresh_from_db()
    assert (charge.status, charge.payment_intent_id) == (ChargeStatus.SUCCEEDED, intents[0]["id"])
    # Looked for first, then sent with the attempt's own key.
    paths = [(r["method"], r["path"]) for r in stripe_after.state.requests][:2]
    assert paths == [("get", "/v1/payment_intents"), ("post", "/v1/payment_intents")]
    assert stripe_after.state.requests[1]["idempotency_key"] == f"charge:{run.pk}:{sophie.pk}"
    assert charge.attempts == 1
    assert ledger_problems() == []


def test_a_charge_in_flight_within_the_safe_age_is_resent_without_a_lookup(stripe_after, settings):
    """Within the bound the key is still Stripe's: the same key replays."""
    claire, sophie, run = month()
    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settle()
    settings.STRIPE_API_BASE = base
    run_settle(run=run, now=timezone.now() + KEY_SAFE_AGE - dt.timedelta(minutes=5))
    assert [r["method"] for r in stripe_after.state.requests][:1] == ["post"]
    assert Charge.objects.get().status == ChargeStatus.SUCCEEDED


def test_a_transfer_made_but_unrecorded_for_a_day_is_adopted_not_made_again(
    stripe_after, monkeypatch
):
    claire, sophie, run = month(creator_ready=False)
    settle()  # collected; the creator has no account yet: owed
    assert Charge.objects.get().status == ChargeStatus.SUCCEEDED
    ready(claire, "acct_claire")
    answers_lost(stripe_after, monkeypatch)
    settle()
    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.IN_FLIGHT
    stripe_back(stripe_after, "transfer", 1)
    monkeypatch.setattr(stripe_client, "DEADLINE", 60.0)

    run_settle(run=run, now=timezone.now() + A_DAY_LATER)

    made = stripe_after.state.of_kind("transfer")
    assert len(made) == 1, "the creator was paid twice"
    transfer.refresh_from_db()
    assert (transfer.status, transfer.transfer_id) == (TransferStatus.SENT, made[0]["id"])
    lookup = [r for r in stripe_after.state.requests if r["method"] == "get"][-1]
    assert lookup["path"] == "/v1/transfers"
    assert lookup["params"]["destination"] == "acct_claire"
    assert lookup["params"]["transfer_group"] == f"payout-{run.label}"
    payout = CreatorPayout.objects.get(creator=claire)
    assert payout.sent == 900 == made[0]["amount"]
    assert Transaction.objects.filter(idempotency_key=transfer.idempotency_key).count() == 1
    assert run_figures(run=run)["transferred"] == {"count": 1, "cents": 900}
    assert ledger_problems() == []


def test_a_later_transfer_of_the_same_group_is_not_taken_for_a_lost_one(stripe_after, settings):
    """The lookup matches our key, not the creator and group: a transfer
    that never reached Stripe is sent, even beside an earlier one."""
    claire, sophie, run = month(creator_ready=False)
    settle()
    ready(claire, "acct_claire")
    transfer_group = f"payout-{run.label}"
    stripe_after.state.objects["tr_earlier"] = {
        "id": "tr_earlier",
        "object": "transfer",
        "amount": 900,
        "destination": "acct_claire",
        "transfer_group": transfer_group,
        "amount_reversed": 0,
        "created": int(time.time()),
        "metadata": {"key": "transfer:0:0:1"},
    }
    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settle()
    settings.STRIPE_API_BASE = base
    assert Transfer.objects.get().status == TransferStatus.IN_FLIGHT

    run_settle(run=run, now=timezone.now() + A_DAY_LATER)

    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.SENT
    assert transfer.transfer_id not in ("", "tr_earlier")
    assert len(stripe_after.state.of_kind("transfer")) == 2
    assert ledger_problems() == []


def test_a_lookup_that_fails_leaves_the_charge_in_flight_never_sent_blind(stripe_after, settings):
    claire, sophie, run = month()
    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settle()
    run_settle(run=run, now=timezone.now() + A_DAY_LATER)  # still unreachable
    charge = Charge.objects.get()
    assert (charge.status, charge.attempts) == (ChargeStatus.IN_FLIGHT, 1)
    settings.STRIPE_API_BASE = base
    run_settle(run=run, now=timezone.now() + A_DAY_LATER + dt.timedelta(minutes=5))
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED
    assert len(stripe_after.state.of_kind("payment_intent")) == 1
    assert ledger_problems() == []


def test_the_test_gateway_adopts_a_charge_and_a_transfer_left_in_flight_for_a_day(after):
    """The test gateway answers the lookup too (the code path is one): the
    charge its key made, recorded once."""
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    claire = cast(User, UserFactory())
    ready(claire)
    sophie = cast(User, UserFactory(monthly_budget_cents=1000))
    flattr(sophie, thing(owner=claire), P)
    method(sophie, "pm_card_visa")
    approve()
    run = PayoutRun.objects.get()
    charge = Charge.objects.get()
    attempt, _method = _claim(charge_id=charge.pk, now=timezone.now())
    assert attempt is not None  # the worker died after calling
    later = timezone.now() + A_DAY_LATER
    charges_run(run=run, now=later)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED
    assert charge.payment_intent_id == f"pi_test_charge_{run.pk}_{sophie.pk}__pm_card_visa"
    assert charge.attempts == 1
    with transaction.atomic():
        run_reconcile(run=run)  # what was collected is credited
    [planned] = transfers_plan(run=run)  # the worker died before sending
    run_settle(run=run, now=later + A_DAY_LATER)
    transfer = Transfer.objects.get(pk=planned)
    assert transfer.status == TransferStatus.SENT
    assert transfer.transfer_id == f"tr_test_transfer_{run.pk}_{claire.pk}_1__acct_test_{claire.pk}"
    assert Transfer.objects.count() == 1
    assert run_figures(run=run)["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_reversal_made_but_unrecorded_for_a_day_is_adopted_not_made_again(
    stripe_after, monkeypatch
):
    claire, sophie, run = month()
    settle()  # charged and transferred
    charge = Charge.objects.get()
    [transfer] = stripe_after.state.of_kind("transfer")
    answers_lost(stripe_after, monkeypatch)
    dispute_recorded(
        dispute=Dispute(
            dispute_id="dp_1", payment_intent_id=charge.payment_intent_id, amount_cents=500
        )
    )
    recovery = Recovery.objects.get()
    assert recovery.status == RecoveryStatus.IN_FLIGHT
    stripe_back(stripe_after, "transfer_reversal", 1)
    monkeypatch.setattr(stripe_client, "DEADLINE", 60.0)

    run_settle(run=run, now=timezone.now() + A_DAY_LATER)

    reversals = stripe_after.state.of_kind("transfer_reversal")
    assert len(reversals) == 1, "the creator was taken from twice"
    recovery.refresh_from_db()
    assert (recovery.status, recovery.reversal_id) == (RecoveryStatus.REVERSED, reversals[0]["id"])
    assert stripe_after.state.objects[transfer["id"]]["amount_reversed"] == recovery.amount
    lookup = [r for r in stripe_after.state.requests if r["method"] == "get"][-1]
    assert lookup["path"] == f"/v1/transfers/{transfer['id']}/reversals"
    assert Transaction.objects.filter(idempotency_key=recovery.idempotency_key).count() == 1
    assert run_figures(run=run)["conservation_ok"] is True
    assert ledger_problems() == []
