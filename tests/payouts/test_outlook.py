"""The supporter's outlook: what this month's split will really take."""

import pytest

from buttons.services import current_period
from payouts.models import PayoutRun, RunStatus, SupporterLine
from payouts.selectors import supporter_month_preview, supporter_outlook
from payouts.services.compute import add_months
from tests.factories import FlattrFactory, ThingFactory, owe
from tests.payouts.helpers import supporter

pytestmark = pytest.mark.django_db


def last_months_draft_takes_the_budget(user):
    """Last month's run, computed but not posted, takes the budget (10 EUR)
    of the supporter's 15 EUR."""
    run = PayoutRun.objects.create(period=add_months(current_period(), -1), status=RunStatus.DRAFT)
    SupporterLine.objects.create(
        run=run, supporter=user, budget=1000, balance=1500, taken=1000, flattrs=2
    )


def test_outlook_takes_the_budget_when_the_wallet_covers_it():
    user = supporter(budget=1000, balance=5000)
    for _ in range(3):
        FlattrFactory(supporter=user)
    outlook = supporter_outlook(user=user)
    assert outlook["amount"] == 1000
    assert outlook["flattrs"] == 3
    assert outlook["each"] == 333
    assert not outlook["short"]
    assert outlook["next_run"] == add_months(current_period(), 1)


def test_amount_committed_to_an_unposted_run_is_not_counted_twice():
    user = supporter(budget=1000, balance=1500)
    FlattrFactory(supporter=user)
    last_months_draft_takes_the_budget(user)
    outlook = supporter_outlook(user=user)
    assert outlook["committed"] == 1000
    assert outlook["amount"] == 500
    assert outlook["short"]


def test_own_and_hidden_things_are_not_counted():
    user = supporter(budget=1000, balance=5000)
    FlattrFactory(supporter=user, thing=ThingFactory(owner=user))
    FlattrFactory(supporter=user, thing=ThingFactory(hidden=True))
    FlattrFactory(supporter=user)
    assert supporter_outlook(user=user)["flattrs"] == 1
    assert supporter_outlook(user=user, adding=True)["flattrs"] == 2


def test_my_months_preview_does_not_count_committed_money_twice():
    user = supporter(budget=1000, balance=1500)
    FlattrFactory(supporter=user)
    FlattrFactory(supporter=user)
    last_months_draft_takes_the_budget(user)
    preview = supporter_month_preview(user=user)
    assert preview["amount"] == 500
    assert [share["amount"] for share in preview["shares"]] == [250, 250]
    assert preview["amount"] == supporter_outlook(user=user)["amount"]


def test_someone_who_owes_is_told_nothing_will_be_taken():
    user = supporter(budget=1000, balance=5000)
    FlattrFactory(supporter=user)
    owe(user, 300)
    outlook = supporter_outlook(user=user)
    assert outlook["owes"] and outlook["amount"] == 0 and outlook["each"] == 0
    assert supporter_month_preview(user=user)["amount"] == 0
