"""``payout_settle``: each test payment method's path, figures to the cent."""

import pytest

from funding.models import Charge, ChargeStatus, CreatorPayout, Transfer
from ledger.models import AccountKind
from ledger.selectors import ledger_problems
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


def zero(count=0, cents=0):
    return {"count": count, "cents": cents}


@pytest.fixture
def month(after, admin_user):
    """Sophie (budget 2.00) flattred four of Claire's things and one
    unclaimed thing: 40 cents each; 1.60 charged, 0.40 pledged."""
    claire = UserFactory(username="claire")
    ready(claire)
    sophie = UserFactory(username="sophie", monthly_budget_cents=200)
    for minute in range(4):
        flattr(sophie, thing(owner=claire), P, minute=minute)
    flattr(sophie, thing(owner=None), P, minute=9)
    return claire, sophie


def test_visa_is_charged_once_and_the_creator_paid_net_of_the_fee(month):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    approve()
    charge = Charge.objects.get()
    assert (charge.amount, charge.status) == (160, ChargeStatus.QUEUED)
    assert balance(sophie, AccountKind.RECEIVABLE) == -160
    figures = settle()
    assert figures == {
        "charged": zero(1, 160),
        "succeeded": zero(1, 160),
        "failed": zero(),
        "waiting": zero(),
        "pledged": zero(1, 40),
        "transferred": zero(1, 144),
        "disputed": zero(),
        "conservation_ok": True,
    }
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    assert balance(claire, AccountKind.EARNINGS) == 0
    assert Transfer.objects.get().idempotency_key.startswith("transfer:")
    assert settle() == figures
    assert ledger_problems() == []


def test_authentication_required_waits_then_the_confirmation_completes_it_once(month):
    from funding.services import charge_succeeded

    claire, sophie = month
    method(sophie, "pm_card_authenticationRequired")
    approve()
    figures = settle()
    assert figures["waiting"] == zero(1, 160)
    assert figures["succeeded"] == zero() and figures["transferred"] == zero()
    assert balance(sophie, AccountKind.RECEIVABLE) == -160
    assert settle() == figures
    charge = Charge.objects.get()
    assert charge.reason == "authentication_required"
    assert charge_succeeded(payment_intent_id=charge.payment_intent_id) is True
    # A replayed or late webhook moves nothing.
    assert charge_succeeded(payment_intent_id=charge.payment_intent_id) is False
    assert charge_succeeded(payment_intent_id="pi_unknown") is False
    figures = settle()
    assert figures["succeeded"] == zero(1, 160)
    assert figures["transferred"] == zero(1, 144)
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_declined_charges_are_retried_on_schedule_then_given_up(month):
    import datetime as dt

    from django.utils import timezone

    from funding.selectors import run_figures
    from funding.services import run_settle
    from payouts.models import PayoutRun

    claire, sophie = month
    method(sophie, "pm_card_chargeDeclinedInsufficientFunds")
    approve()
    figures = settle()
    assert figures["failed"] == zero(1, 160)
    assert figures["charged"] == zero(1, 160)
    charge = Charge.objects.get()
    first = charge.first_failed_at
    assert charge.status == ChargeStatus.FAILED
    assert charge.next_attempt_at == first + dt.timedelta(days=1)
    assert settle() == figures and Charge.objects.get().attempts == 1
    run = PayoutRun.objects.get()
    for days, attempts in ((1, 2), (3, 3)):
        run_settle(run=run, now=first + dt.timedelta(days=days, seconds=1))
        charge.refresh_from_db()
        assert (charge.attempts, charge.status) == (attempts, ChargeStatus.FAILED)
    run_settle(run=run, now=first + dt.timedelta(days=7, seconds=1))
    charge.refresh_from_db()
    assert (charge.attempts, charge.status) == (4, ChargeStatus.GIVEN_UP)
    assert list(
        charge.attempts_made.values_list("idempotency_key", flat=True).order_by("number")
    ) == [
        f"charge:{run.pk}:{sophie.pk}",
        f"charge:{run.pk}:{sophie.pk}:2",
        f"charge:{run.pk}:{sophie.pk}:3",
        f"charge:{run.pk}:{sophie.pk}:4",
    ]
    figures = run_figures(run=run)
    assert figures["failed"] == zero(1, 160) and figures["transferred"] == zero()
    assert figures["conservation_ok"] is True
    # Nothing is owed once given up; nothing rests on the books.
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    assert ledger_problems() == []
    run_settle(run=run, now=timezone.now() + dt.timedelta(days=30))
    assert Charge.objects.get().attempts == 4


def test_a_charge_that_fails_for_good_waits_for_a_new_way_to_pay(month):
    from funding.services import charges_method_saved

    claire, sophie = month
    old = method(sophie, "pm_card_chargeCustomerFail")
    approve()
    figures = settle()
    assert figures["failed"] == zero(1, 160)
    old.refresh_from_db()
    assert old.status == "unusable"
    assert Charge.objects.get().status == ChargeStatus.NEEDS_METHOD
    assert settle() == figures
    method(sophie, "pm_card_visa")
    assert charges_method_saved(user=sophie) == 1
    figures = settle()
    assert figures["succeeded"] == zero(1, 160)
    assert figures["failed"] == zero()
    assert figures["transferred"] == zero(1, 144)
    assert Charge.objects.get().attempts == 2


def test_without_a_way_to_pay_the_charge_waits_for_one(month):
    claire, sophie = month
    approve()
    figures = settle()
    assert figures["failed"] == zero(1, 160)
    assert Charge.objects.get().reason == "no_payment_method"


@pytest.mark.parametrize(
    ("pm", "second"),
    [("pm_sepa_debit_success", "succeeded"), ("pm_sepa_debit_failure", "failed")],
)
def test_sepa_is_processing_at_the_first_settle_on_its_date_and_final_at_the_next(
    month, pm, second
):
    from funding.services import run_settle
    from payouts.models import PayoutRun

    claire, sophie = month
    method(sophie, pm)
    approve()
    first = settle()
    # Announced, waiting for its date (FLATTR_SEPA_NOTICE_DAYS, 2 by default).
    assert first["waiting"] == zero(1, 160)
    assert first["transferred"] == zero()
    charge = Charge.objects.get()
    assert (charge.status, charge.attempts) == (ChargeStatus.HELD, 0)
    run = PayoutRun.objects.get()
    run_settle(run=run, now=charge.debit_from)
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.PROCESSING, 1)
    figures = settle()
    assert figures["waiting"] == zero()
    assert figures[second] == zero(1, 160)
    assert figures["transferred"] == (zero(1, 144) if second == "succeeded" else zero())
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_dispute_is_recovered_from_the_creator_by_reversing_the_transfer(month):
    claire, sophie = month
    method(sophie, "pm_card_createDispute")
    approve()
    figures = settle()
    assert figures["succeeded"] == zero(1, 160)
    assert figures["disputed"] == zero(1, 160)
    assert figures["transferred"] == zero(1, 0)
    assert figures["conservation_ok"] is True
    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.reversed) == (144, 144)
    assert balance(claire, AccountKind.RECEIVABLE) == 0
    assert settle() == figures
    assert ledger_problems() == []


def test_a_dispute_on_a_spent_account_becomes_a_debt_on_future_earnings(after, admin_user):
    from payments.gateways.test import TEST_SPENT_ACCOUNT

    claire = UserFactory()
    ready(claire, TEST_SPENT_ACCOUNT)
    sophie = UserFactory(monthly_budget_cents=100)
    flattr(sophie, thing(owner=claire), P)
    method(sophie, "pm_card_createDispute")
    approve()
    figures = settle()
    assert figures["disputed"] == zero(1, 100)
    assert figures["transferred"] == zero(1, 90)
    assert figures["conservation_ok"] is True
    assert balance(claire, AccountKind.RECEIVABLE) == -90
    payout = CreatorPayout.objects.get()
    assert (payout.due, payout.debt) == (0, 90)
    assert ledger_problems() == []


def test_a_creator_without_a_ready_account_is_owed_then_paid_when_ready(after, admin_user):
    claire = UserFactory()
    sophie = UserFactory(monthly_budget_cents=100)
    flattr(sophie, thing(owner=claire), P)
    method(sophie)
    approve()
    figures = settle()
    assert figures["succeeded"] == zero(1, 100)
    assert figures["transferred"] == zero()
    assert balance(claire, AccountKind.EARNINGS) == 90
    ready(claire)
    figures = settle()
    assert figures["transferred"] == zero(1, 90)
    assert balance(claire, AccountKind.EARNINGS) == 0


def test_a_sepa_retry_is_processing_until_the_settle_after_it(month):
    import datetime as dt

    from funding.services import run_settle
    from payouts.models import PayoutRun

    claire, sophie = month
    method(sophie, "pm_sepa_debit_failure")
    approve()
    settle()
    run = PayoutRun.objects.get()
    run_settle(run=run, now=Charge.objects.get().debit_from)
    assert settle()["failed"] == zero(1, 160)
    charge = Charge.objects.get()
    # The retry's own advance notice: the schedule's day or, if later, the
    # notice period from the decline.
    assert charge.next_attempt_at == charge.debit_from
    assert charge.debit_from >= charge.first_failed_at + dt.timedelta(days=1)
    run_settle(run=run, now=charge.next_attempt_at - dt.timedelta(seconds=1))
    charge.refresh_from_db()
    assert (charge.attempts, charge.status) == (1, ChargeStatus.FAILED)
    run_settle(run=run, now=charge.next_attempt_at)
    charge.refresh_from_db()
    assert (charge.attempts, charge.status) == (2, ChargeStatus.PROCESSING)


class TestBadInput:
    def test_a_month_that_is_not_one_is_one_line(self, after):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="not a month"):
            settle("2026-9")
        with pytest.raises(CommandError, match="no run for 2026-09"):
            settle()

    def test_a_draft_run_is_approved_first(self, month):
        import io

        from django.core.management import CommandError, call_command

        call_command("payout_compute", "2026-09", stdout=io.StringIO())
        with pytest.raises(CommandError, match="approve it first"):
            settle()

    def test_a_wallet_mode_run_has_nothing_to_settle(self, month, settings):
        from django.core.management import CommandError

        settings.FLATTR_FUNDING = "wallet"
        approve()
        with pytest.raises(CommandError, match="paid from wallets"):
            settle()
        assert Charge.objects.count() == 0
