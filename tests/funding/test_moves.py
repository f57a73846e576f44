"""A charge waiting for the supporter's confirmation follows the new way to
pay they save: the old payment intent is canceled first, then a new attempt
(its own key) with the new method; by SEPA after its advance notice; if the
supporter confirmed the old intent meanwhile, that is the outcome. Never
two intents that both take money."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
from django.utils import timezone

from accounts.models import User
from funding.models import Charge, ChargeStatus
from funding.selectors import run_figures
from funding.services import charges_method_saved, run_settle
from funding.services.moves import MOVED
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from notifications.models import Event
from payments.models import PaymentMethod
from payouts.models import PayoutRun
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle, stripe_method

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_workers(monkeypatch):
    from funding import tasks

    monkeypatch.setattr(tasks.charge_chunk, "delay", lambda *args: None)


def waiting(pm: str, *, stripe: bool = False) -> tuple[User, PayoutRun, Charge]:
    """Sophie's charge of 10.00 waits for her to confirm it (3D Secure)."""
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    claire = cast(User, UserFactory())
    ready(claire)
    sophie = cast(User, UserFactory(monthly_budget_cents=1000))
    flattr(sophie, thing(owner=claire), P)
    (stripe_method if stripe else method)(sophie, pm)
    approve()
    settle()
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.REQUIRES_ACTION
    return sophie, PayoutRun.objects.get(), charge


def stripe_saved(user: User, pm: str) -> PaymentMethod:
    PaymentMethod.objects.filter(user=user, status="active").update(status="removed")
    return stripe_method(user, pm)


def assert_collected_once(run: PayoutRun, sophie: User) -> None:
    assert Transaction.objects.filter(idempotency_key=f"charge:{run.pk}:{sophie.pk}").count() == 1
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    figures = run_figures(run=run)
    assert figures["succeeded"] == {"count": 1, "cents": 1000}
    assert figures["waiting"] == {"count": 0, "cents": 0}
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_new_card_takes_over_a_charge_waiting_for_confirmation(after):
    sophie, run, charge = waiting("pm_card_authenticationRequired")
    method(sophie, "pm_card_visa")
    charges_method_saved(user=sophie)
    settle()
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.SUCCEEDED, 2)
    keys = list(charge.attempts_made.order_by("number").values_list("idempotency_key", "reason"))
    assert keys == [
        (f"charge:{run.pk}:{sophie.pk}", MOVED),
        (f"charge:{run.pk}:{sophie.pk}:2", ""),
    ]
    assert charge.payment_intent_id.endswith("__pm_card_visa")
    assert_collected_once(run, sophie)


def test_a_new_sepa_mandate_takes_over_after_its_advance_notice(after):
    after.FLATTR_SEPA_NOTICE_DAYS = 2
    sophie, run, charge = waiting("pm_card_authenticationRequired")
    method(sophie, "pm_sepa_debit_success")
    charges_method_saved(user=sophie)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.HELD
    assert charge.debit_from is not None
    assert charge.notice_at is not None
    assert charge.debit_from - charge.notice_at == dt.timedelta(days=2)
    notice = Event.objects.get(type="charge.sepa_notice")
    assert notice.data["amount_cents"] == 1000
    settle()  # before the announced date: not debited
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.HELD, 1)
    run_settle(run=run, now=charge.debit_from + dt.timedelta(minutes=1))
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.PROCESSING, 2)


def test_a_card_that_needs_no_move_stays_waiting(after):
    """Saving the same method again, or nothing new: the charge keeps
    waiting for its confirmation."""
    sophie, run, charge = waiting("pm_card_authenticationRequired")
    charges_method_saved(user=sophie)
    settle()
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.REQUIRES_ACTION, 1)


def test_with_stripe_the_old_intent_is_canceled_before_the_new_card_is_charged(stripe_after):
    sophie, run, charge = waiting("pm_card_authenticationRequired", stripe=True)
    old = charge.payment_intent_id
    stripe_saved(sophie, "pm_card_visa")
    charges_method_saved(user=sophie)
    settle()
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.SUCCEEDED, 2)
    intents = {i["id"]: i for i in stripe_after.state.of_kind("payment_intent")}
    assert intents[old]["status"] == "canceled"
    assert intents[charge.payment_intent_id]["status"] == "succeeded"
    assert intents[charge.payment_intent_id]["payment_method"] == "pm_card_visa"
    posts = [(r["path"], r["idempotency_key"]) for r in stripe_after.state.requests]
    cancel = (f"/v1/payment_intents/{old}/cancel", f"cancel:{old}")
    second = ("/v1/payment_intents", f"charge:{run.pk}:{sophie.pk}:2")
    assert posts.index(cancel) < posts.index(second)
    assert_collected_once(run, sophie)


def test_with_stripe_a_confirmation_that_came_first_is_the_outcome(stripe_after):
    """The supporter confirmed the old intent on Stripe's page just before
    saving a new card (its webhook not here yet): the cancel is refused, the
    success recorded, and the new card is never charged."""
    sophie, run, charge = waiting("pm_card_authenticationRequired", stripe=True)
    old = charge.payment_intent_id
    stripe_after.state.succeed(old, fee=40)
    stripe_saved(sophie, "pm_card_visa")
    charges_method_saved(user=sophie)
    settle()
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.SUCCEEDED, 1)
    assert (charge.payment_intent_id, charge.fee_cents) == (old, 40)
    assert len(stripe_after.state.of_kind("payment_intent")) == 1
    assert_collected_once(run, sophie)


def test_with_stripe_unreachable_the_move_waits_for_the_next_settle(stripe_after, settings):
    sophie, run, charge = waiting("pm_card_authenticationRequired", stripe=True)
    stripe_saved(sophie, "pm_card_visa")
    base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    charges_method_saved(user=sophie)
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.REQUIRES_ACTION, 1)
    settings.STRIPE_API_BASE = base
    run_settle(run=run, now=timezone.now())
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.SUCCEEDED, 2)
    assert_collected_once(run, sophie)
