"""After-mode money rules: follow-up transfers, wallet money after a switch,
onward shares, the dispute allocation, flattrs without a wallet."""

import pytest

from buttons.services import FlattrRefused, flattr_create
from funding.models import Charge, ChargeStatus, CreatorPayout, Transfer
from funding.services import dispute_allocation
from ledger.models import AccountKind
from ledger.selectors import ledger_problems
from payouts.models import OnwardShare, PayoutRun, SupporterLine
from payouts.rules import fee_cents
from tests.factories import UserFactory, balance, flattr, fund, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


def test_follow_up_transfers_pay_the_difference_of_the_cumulative_net(after, admin_user):
    # No advance-notice hold: the SEPA debit is processing at the first
    # settle and final at the second (the hold: tests/funding/test_sepa_hold.py).
    after.FLATTR_SEPA_NOTICE_DAYS = 0
    claire = UserFactory()
    ready(claire)
    card = UserFactory(monthly_budget_cents=5)
    sepa = UserFactory(monthly_budget_cents=5)
    for s, pm in ((card, "pm_card_visa"), (sepa, "pm_sepa_debit_success")):
        flattr(s, thing(owner=claire), P)
        method(s, pm)
    approve()
    first = settle()
    # G = 5, fee(5) = 1 (half up), net 4.
    assert first["transferred"] == {"count": 1, "cents": 4}
    second = settle()
    # G = 10, fee(10) = 1, net 9: the follow-up transfer is 5.
    assert second["transferred"] == {"count": 2, "cents": 9}
    assert list(Transfer.objects.order_by("number").values_list("amount", flat=True)) == [4, 5]
    assert fee_cents(gross=10, percent=10) == 1
    assert second["conservation_ok"] is True


def test_wallet_money_left_from_wallet_mode_is_spent_first(after, admin_user):
    claire = UserFactory()
    ready(claire)
    sophie = UserFactory(monthly_budget_cents=300)
    fund(sophie, 100)
    flattr(sophie, thing(owner=claire), P)
    flattr(sophie, thing(owner=None), P, minute=1)
    method(sophie)
    approve()
    charge = Charge.objects.get()
    # 150 on the claimed thing: 100 from the wallet, 50 charged.
    assert (charge.amount, charge.wallet_part) == (50, 100)
    assert balance(sophie) == 0
    figures = settle()
    assert figures["succeeded"] == {"count": 1, "cents": 50}
    assert figures["pledged"] == {"count": 1, "cents": 150}
    assert figures["transferred"] == {"count": 1, "cents": 135}
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_wallet_that_covers_everything_needs_no_charge(after, admin_user):
    claire = UserFactory()
    ready(claire)
    sophie = UserFactory(monthly_budget_cents=100)
    fund(sophie, 500)
    flattr(sophie, thing(owner=claire), P)
    approve()
    charge = Charge.objects.get()
    assert (charge.amount, charge.wallet_part, charge.status) == (0, 100, ChargeStatus.SUCCEEDED)
    figures = settle()
    assert figures["charged"] == {"count": 0, "cents": 0}
    assert figures["transferred"] == {"count": 1, "cents": 90}
    assert balance(sophie) == 400


def test_a_given_up_charge_gives_the_wallet_part_back(after, admin_user):
    import datetime as dt

    from funding.services import run_settle

    claire = UserFactory()
    sophie = UserFactory(monthly_budget_cents=300)
    fund(sophie, 100)
    flattr(sophie, thing(owner=claire), P)
    method(sophie, "pm_card_chargeDeclinedInsufficientFunds")
    approve()
    settle()
    run = PayoutRun.objects.get()
    first = Charge.objects.get().first_failed_at
    for days in (1, 3, 7):
        run_settle(run=run, now=first + dt.timedelta(days=days, seconds=1))
    assert Charge.objects.get().status == ChargeStatus.GIVEN_UP
    assert balance(sophie) == 100
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    assert CreatorPayout.objects.filter(due__gt=0).count() == 0
    assert ledger_problems() == []


def test_onward_shares_apply_to_what_was_collected(after, admin_user):
    claire, bob = UserFactory(), UserFactory()
    ready(claire)
    ready(bob)
    OnwardShare.objects.create(creator=claire, target_user=bob, percent=25)
    # An onward share to an unclaimed thing stays with the giver (nothing held).
    OnwardShare.objects.create(creator=claire, target_thing=thing(owner=None), percent=10)
    sophie = UserFactory(monthly_budget_cents=200)
    flattr(sophie, thing(owner=claire), P)
    method(sophie)
    approve()
    settle()
    due = dict(CreatorPayout.objects.values_list("creator_id", "due"))
    # G 200, fee 20, net 180: 45 to Bob, 135 kept.
    assert due == {claire.pk: 135, bob.pk: 45}
    assert balance(claire, AccountKind.EARNINGS) == balance(bob, AccountKind.EARNINGS) == 0


def test_a_dispute_is_taken_from_each_creator_in_proportion_to_the_shares(after, admin_user):
    creators = [UserFactory() for _ in range(3)]
    for c in creators:
        ready(c)
    sophie = UserFactory(monthly_budget_cents=100)
    # Shares 34, 33, 33 (the earliest gets the extra cent).
    for minute, c in enumerate(creators):
        flattr(sophie, thing(owner=c), P, minute=minute)
    method(sophie, "pm_card_createDispute")
    approve()
    figures = settle()
    assert figures["disputed"] == {"count": 1, "cents": 100}
    assert figures["transferred"]["cents"] == 0
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_dispute_allocation_floors_and_gives_remaining_cents_to_the_largest_shares():
    assert dispute_allocation(cents=100, shares={1: 34, 2: 33, 3: 33}) == {1: 34, 2: 33, 3: 33}
    assert dispute_allocation(cents=50, shares={1: 34, 2: 33, 3: 33}) == {1: 18, 2: 16, 3: 16}
    assert dispute_allocation(cents=10, shares={5: 1, 7: 1, 2: 98}) == {2: 10}
    assert dispute_allocation(cents=2, shares={5: 1, 7: 1, 2: 1}) == {2: 1, 5: 1}
    assert dispute_allocation(cents=0, shares={1: 5}) == {}


def test_pledged_cents_are_recorded_per_supporter(after, admin_user):
    sophie = UserFactory(monthly_budget_cents=100)
    flattr(sophie, thing(owner=UserFactory()), P)
    flattr(sophie, thing(owner=None), P, minute=1)
    flattr(sophie, thing(owner=None), P, minute=2)
    approve()
    line = SupporterLine.objects.get(supporter=sophie)
    assert (line.taken, line.pledged) == (100, 66)
    assert Charge.objects.get().amount == 34


class TestFlattrMeans:
    def test_wallet_mode_refuses_a_flattr_on_an_empty_wallet(self, settings):
        settings.FLATTR_FUNDING = "wallet"
        with pytest.raises(FlattrRefused) as refused:
            flattr_create(supporter=UserFactory(), thing=thing())
        assert refused.value.code == "no_means"

    def test_after_mode_takes_a_flattr_without_wallet_or_way_to_pay(self, settings):
        settings.FLATTR_FUNDING = "after"
        flattr_create(supporter=UserFactory(), thing=thing())

    def test_after_mode_takes_a_flattr_from_someone_whose_month_is_being_charged(self, settings):
        from tests.factories import owe

        settings.FLATTR_FUNDING = "after"
        sophie = UserFactory()
        owe(sophie, 160)
        flattr_create(supporter=sophie, thing=thing())


def test_pledges_are_never_paid_when_the_thing_is_claimed_later(after, admin_user):
    import datetime as dt

    from payouts.models import UnclaimedLine
    from tests.funding.helpers import settle

    sophie = UserFactory(monthly_budget_cents=100)
    orphan = thing(owner=None)
    flattr(sophie, orphan, P)
    approve()
    assert settle()["pledged"] == {"count": 1, "cents": 100}
    assert Charge.objects.count() == 0
    orphan.owner = UserFactory()
    orphan.save(update_fields=["owner"])
    flattr(sophie, thing(owner=orphan.owner), dt.date(2026, 10, 1))
    approve("2026-10")
    line = UnclaimedLine.objects.get(thing_id=orphan.pk)
    assert (line.status, line.settled_by_id) == ("pledged", None)
    october = PayoutRun.objects.get(period=dt.date(2026, 10, 1))
    assert october.claimed_gross == 0


def test_run_progress_counts_charges_by_state_with_an_estimated_end(after, admin_user):
    from funding.selectors import run_progress

    claire = UserFactory()
    for pm in ("pm_card_visa", "pm_card_chargeDeclinedInsufficientFunds", None):
        s = UserFactory(monthly_budget_cents=100)
        flattr(s, thing(owner=claire), P)
        if pm:
            method(s, pm)
    approve()
    progress = run_progress(run=PayoutRun.objects.get())
    assert progress["states"] == {"queued": {"count": 3, "cents": 300}}
    assert progress["to_try"] == 3 and progress["estimated_end"] is not None
    from tests.funding.helpers import settle

    settle()
    progress = run_progress(run=PayoutRun.objects.get())
    assert progress["states"]["succeeded"] == {"count": 1, "cents": 100}
    assert progress["reasons"] == {"insufficient_funds": 1, "no_payment_method": 1}
    assert progress["to_try"] == 0 and progress["estimated_end"] is None
