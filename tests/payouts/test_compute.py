"""The monthly split: who pays what to whom (payouts.services.compute)."""

import datetime as dt

import pytest

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payouts import services
from payouts.models import CreatorLine, PayoutRun, SupporterLine, UnclaimedLine
from payouts.shares import run_shares
from tests.factories import UserFactory, balance, flattr, owe, platform, supporter, thing
from tests.payouts.helpers import P, compute, post, shares_of

pytestmark = pytest.mark.django_db


class TestPeriod:
    def test_only_closed_months_can_be_computed(self):
        with pytest.raises(services.PayoutError, match="not closed yet"):
            compute(services.compute.current_period())
        assert not PayoutRun.objects.exists()

    def test_flattrs_of_other_months_do_not_count(self):
        s = supporter(budget=300)
        flattr(s, thing(), P)
        flattr(s, thing(), dt.date(2026, 8, 1))
        run = compute()
        assert run.flattrs == 1
        assert shares_of(s) == [300]

    def test_periods_are_months_in_the_payout_timezone(self, settings):
        from buttons.services import period_of

        settings.PAYOUT_TIMEZONE = "Europe/Paris"
        assert period_of(dt.datetime(2026, 9, 30, 22, 30, tzinfo=dt.UTC)) == dt.date(2026, 10, 1)
        settings.PAYOUT_TIMEZONE = "UTC"
        assert period_of(dt.datetime(2026, 9, 30, 22, 30, tzinfo=dt.UTC)) == dt.date(2026, 9, 1)

    def test_one_run_per_period(self):
        compute()
        with pytest.raises(services.PayoutError, match="exists"):
            compute()
        assert PayoutRun.objects.count() == 1


class TestAmountTaken:
    def test_budget_when_the_wallet_covers_it(self):
        s = supporter(budget=200, balance=1000)
        flattr(s, thing(), P)
        compute()
        assert SupporterLine.objects.get(supporter=s).taken == 200

    def test_wallet_when_it_holds_less_than_the_budget(self):
        s = supporter(budget=500, balance=130)
        flattr(s, thing(), P)
        compute()
        assert SupporterLine.objects.get(supporter=s).taken == 130

    def test_empty_wallet_takes_nothing(self):
        s = supporter(budget=500, balance=0)
        flattr(s, thing(), P)
        run = compute()
        assert run.supporters == 0 and run.taken == 0

    def test_a_supporter_who_owes_is_skipped(self):
        s = supporter(budget=200, balance=1000)
        owe(s, 50)
        flattr(s, thing(), P)
        run = compute()
        assert not SupporterLine.objects.filter(supporter=s).exists()
        assert run.taken == 0


class TestCountedFlattrs:
    def test_hidden_removed_and_own_things_do_not_count(self):
        s = supporter(budget=300)
        flattr(s, thing(hidden=True), P)
        flattr(s, thing(removed=True), P)
        flattr(s, thing(owner=s), P)
        counted = thing()
        flattr(s, counted, P)
        compute()
        line = SupporterLine.objects.get(supporter=s)
        assert line.flattrs == 1
        assert shares_of(s) == [300]


def derived(user):
    return run_shares(run=PayoutRun.objects.get(period=P), supporter_ids=[user.pk])


class TestEqualSplit:
    def test_remainder_cents_go_to_earliest_flattrs(self):
        s = supporter(budget=200)
        things = [thing() for _ in range(3)]
        # Created out of id order: the earliest by time get the extra cents.
        flattr(s, things[0], P, day=3)
        flattr(s, things[1], P, day=1)
        flattr(s, things[2], P, day=2)
        compute()
        by_thing = {share.thing_id: share.amount for share in derived(s)}
        assert by_thing == {things[1].pk: 67, things[2].pk: 67, things[0].pk: 66}
        assert sum(by_thing.values()) == 200

    def test_ties_in_time_are_broken_by_id(self):
        s = supporter(budget=101)
        a, b = thing(), thing()
        fa = flattr(s, a, P, day=5)
        fb = flattr(s, b, P, day=5)
        compute()
        by_flattr = {share.flattr_id: share.amount for share in derived(s)}
        assert by_flattr == {fa.pk: 51, fb.pk: 50}

    def test_the_classic_example(self):
        # 2 EUR budget, 5 flattrs: 0.40 each.
        s = supporter(budget=200)
        for _ in range(5):
            flattr(s, thing(), P)
        compute()
        assert shares_of(s) == [40] * 5


class TestFee:
    def test_fee_is_ten_percent_of_each_creators_gross_rounded_half_up(self):
        creator = UserFactory()
        for budget in (100, 100, 35):  # gross 235 -> fee 23.5 -> 24
            s = supporter(budget=budget)
            flattr(s, thing(owner=creator), P)
        compute()
        line = CreatorLine.objects.get(creator=creator)
        assert (line.gross, line.fee, line.net) == (235, 24, 211)

    def test_half_cent_rounds_down_below_half(self):
        creator = UserFactory()
        s = supporter(budget=234)
        flattr(s, thing(owner=creator), P)
        compute()
        line = CreatorLine.objects.get(creator=creator)
        assert (line.fee, line.net) == (23, 211)

    def test_fee_percent_is_a_setting(self, settings):
        settings.FLATTR_FEE_PERCENT = 5
        creator = UserFactory()
        s = supporter(budget=1000)
        flattr(s, thing(owner=creator), P)
        compute()
        assert CreatorLine.objects.get(creator=creator).fee == 50


class TestUnspentBudget:
    def test_keep_moves_nothing(self):
        s = supporter(budget=200)
        run = compute()
        assert not SupporterLine.objects.filter(supporter=s).exists()
        assert run.charity == 0

    def test_charity_gives_the_budget_to_the_charity_account(self, settings, admin_user):
        settings.FLATTR_UNSPENT_BUDGET = "charity"
        s = supporter(budget=200, balance=150)
        run = compute()
        assert SupporterLine.objects.get(supporter=s).charity == 150
        assert run.charity == 150 and run.conservation_ok
        post(run, admin_user)
        assert platform(AccountKind.CHARITY) == 150
        assert balance(s) == 0


class TestUnclaimed:
    def test_shares_for_unclaimed_things_are_held_per_thing(self, admin_user):
        s = supporter(budget=200)
        orphan = thing(owner=None)
        flattr(s, orphan, P)
        flattr(s, thing(), P)
        run = compute()
        assert run.unclaimed == 100
        assert UnclaimedLine.objects.get(thing_id=orphan.pk).amount == 100
        post(run, admin_user)
        assert platform(AccountKind.UNCLAIMED, f"thing:{orphan.pk}") == 100

    def test_a_claimed_thing_is_paid_to_its_new_owner_next_run(self, admin_user):
        s = supporter(budget=200, balance=5000)
        orphan = thing(owner=None)
        flattr(s, orphan, P)
        post(compute(), admin_user)
        creator = UserFactory()
        orphan.owner = creator
        orphan.save()
        run = compute(dt.date(2026, 10, 1))
        assert run.claimed_gross == 200
        post(run, admin_user)
        assert balance(creator, AccountKind.EARNINGS) == 180
        assert platform(AccountKind.UNCLAIMED, f"thing:{orphan.pk}") == 0
        assert UnclaimedLine.objects.get(thing_id=orphan.pk).status == "claimed"
        assert ledger_selectors.ledger_problems() == []

    def test_old_unclaimed_money_returns_to_its_supporters(self, settings, admin_user):
        settings.FLATTR_UNCLAIMED_MONTHS = 2
        a = supporter(budget=300, balance=300)
        b = supporter(budget=100, balance=100)
        orphan = thing(owner=None)
        first = dt.date(2026, 7, 1)
        flattr(a, orphan, first)
        flattr(b, orphan, first)
        post(compute(first), admin_user)
        assert balance(a) == 0 and balance(b) == 0
        # One month later: not yet expired.
        assert compute(dt.date(2026, 8, 1)).returned == 0
        later = compute(dt.date(2026, 9, 1))
        assert later.returned == 400
        post(later, admin_user)
        assert (balance(a), balance(b)) == (300, 100)
        assert UnclaimedLine.objects.get(thing_id=orphan.pk).status == "returned"
        assert ledger_selectors.ledger_problems() == []


class TestSplitInRanges:
    """The split runs in ranges of supporters side by side (PostgreSQL's
    parallel workers); every supporter is in exactly one range."""

    @staticmethod
    def month():
        things = [thing() for _ in range(3)]
        supporters = [supporter(budget=100 + 7 * i) for i in range(7)]
        for i, s in enumerate(supporters):
            for j, t in enumerate(things[: 1 + i % 3]):
                flattr(s, t, P, day=1 + j, minute=i)
        return supporters, things

    @staticmethod
    def lines(run):
        return (
            sorted(
                SupporterLine.objects.filter(run=run).values_list(
                    "supporter_id", "taken", "flattrs"
                )
            ),
            sorted(CreatorLine.objects.filter(run=run).values_list("creator_id", "gross", "fee")),
        )

    @pytest.mark.parametrize("branches", [2, 3, 7, 20])
    def test_any_number_of_ranges_gives_the_one_range_result(self, settings, branches):
        supporters, _things = self.month()
        settings.FLATTR_PAYOUT_SPLIT_BRANCHES = 1
        one = self.lines(compute())
        settings.FLATTR_PAYOUT_SPLIT_BRANCHES = branches
        run = services.payout_run_compute(period=P, recompute=True)
        assert self.lines(run) == one
        assert [line[2] for line in one[0]] == [1 + i % 3 for i in range(7)]
        assert run.taken == sum(100 + 7 * i for i in range(7))
        assert run.conservation_ok
