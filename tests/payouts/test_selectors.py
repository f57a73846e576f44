"""Reads of a run: the suspicious-creators table of the review page."""

import datetime as dt

import pytest

from payouts import selectors
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P, compute

pytestmark = pytest.mark.django_db


def _new_supporter():
    return supporter(budget=300, balance=1000, date_joined=dt.datetime(2026, 9, 5, tzinfo=dt.UTC))


def _old_supporter():
    return supporter(budget=300, balance=1000, date_joined=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))


def test_a_creator_mostly_flattred_by_new_accounts_is_listed():
    farmed = UserFactory(username="farmed")
    honest = UserFactory(username="honest")
    for s in (_new_supporter(), _new_supporter(), _old_supporter()):
        flattr(s, thing(owner=farmed), P)
    for s in (_new_supporter(), _old_supporter(), _old_supporter()):
        flattr(s, thing(owner=honest), P)
    run = compute()
    assert selectors.suspicious_creators(run=run) == [
        {"creator_id": farmed.pk, "username": "farmed", "flattrs": 3, "from_new_accounts": 2}
    ]


def test_fewer_than_three_flattrs_are_not_suspicious():
    creator = UserFactory()
    for s in (_new_supporter(), _new_supporter()):
        flattr(s, thing(owner=creator), P)
    assert selectors.suspicious_creators(run=compute()) == []
