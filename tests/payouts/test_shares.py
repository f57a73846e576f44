"""Shares are derived from the lines and the period's flattrs, not stored:
what a run used stays what every reader sees, whatever happens to the
things afterwards."""

import pytest

from buttons.models import Thing
from payouts import selectors
from payouts.models import ThingLine
from payouts.shares import run_shares
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P, compute, post

pytestmark = pytest.mark.django_db


def _amounts(run, user):
    return [
        (s.thing_id, s.creator_id, s.amount) for s in run_shares(run=run, supporter_ids=[user.pk])
    ]


def test_shares_of_a_run_do_not_move_when_things_change_after_computing(admin_user):
    creator = UserFactory()
    s = supporter(budget=301, balance=1000)
    kept, hidden_later, orphan, own_later = (
        thing(owner=creator),
        thing(owner=creator),
        thing(owner=None),
        thing(owner=None),
    )
    for minute, t in enumerate([kept, hidden_later, orphan, own_later]):
        flattr(s, t, P, minute=minute)
    run = post(compute(), admin_user)
    before = _amounts(run, s)
    assert before == [
        (kept.pk, creator.pk, 76),
        (hidden_later.pk, creator.pk, 75),
        (orphan.pk, None, 75),
        (own_later.pk, None, 75),
    ]

    # After the run: one thing hidden, one removed, one claimed by the
    # supporter themselves (their own flattr would not count any more).
    Thing.objects.filter(pk=hidden_later.pk).update(hidden=True)
    Thing.objects.filter(pk=orphan.pk).update(removed=True)
    Thing.objects.filter(pk=own_later.pk).update(owner=s)

    assert _amounts(run, s) == before
    months = selectors.supporter_months(user=s)
    assert sorted(share["amount"] for share in months[0]["shares"]) == [75, 75, 75, 76]


def test_thing_lines_hold_each_things_cents_and_the_owner_at_computing():
    creator = supporter(budget=100)
    a, b = supporter(budget=100), supporter(budget=50)
    t1, t2 = thing(owner=creator), thing(owner=None)
    flattr(a, t1, P, minute=0)
    flattr(a, t2, P, minute=1)
    flattr(b, t1, P, minute=2)
    flattr(creator, t1, P, minute=3)  # own thing: not counted, no share
    run = compute()
    lines = {
        line.thing_id: (line.creator_id, line.amount, line.flattrs)
        for line in ThingLine.objects.filter(run=run)
    }
    assert lines == {t1.pk: (creator.pk, 100, 2), t2.pk: (None, 50, 1)}
    assert run_shares(run=run, supporter_ids=[creator.pk]) == []
