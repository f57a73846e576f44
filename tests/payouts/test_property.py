"""The SQL split against a small pure-Python reference of docs/design.md's rules."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payouts import services
from payouts.models import CreatorLine, SupporterLine, UnclaimedLine
from tests.factories import UserFactory, flattr, fund, owe, thing
from tests.payouts.helpers import run_share_amounts

months = itertools.count()


def reference(users, things, flattrs, fee_percent, charity_mode):
    """users: {key: (budget, balance, owes)}; things: {key: (owner_key|None, hidden)};
    flattrs: [(key, user_key, thing_key, minute)] in creation (id) order."""
    taken, shares, charity = {}, {}, {}
    for u, (budget, wallet, owes) in users.items():
        if owes or budget <= 0 or wallet <= 0:
            continue
        counted = [
            (minute, index, f)
            for index, (f, su, th, minute) in enumerate(flattrs)
            if su == u and not things[th][1] and things[th][0] != u
        ]
        amount = min(budget, wallet)
        if not counted:
            if charity_mode:
                taken[u] = amount
                charity[u] = amount
            continue
        taken[u] = amount
        counted.sort()
        base, extra = divmod(amount, len(counted))
        for rank, (_minute, _index, f) in enumerate(counted):
            shares[f] = base + (1 if rank < extra else 0)
        assert sum(base + (1 if r < extra else 0) for r in range(len(counted))) == amount
    gross, unclaimed = {}, {}
    for f, su, th, _minute in flattrs:
        if f not in shares:
            continue
        owner = things[th][0]
        if owner is None:
            unclaimed[th] = unclaimed.get(th, 0) + shares[f]
        else:
            gross[owner] = gross.get(owner, 0) + shares[f]
    creators = {c: (g, (g * fee_percent * 2 + 100) // 200) for c, g in gross.items()}
    return taken, shares, charity, creators, unclaimed


month_data = st.fixed_dictionaries(
    {
        "users": st.lists(
            st.tuples(st.integers(0, 1500), st.integers(0, 2000), st.booleans()),
            min_size=1,
            max_size=6,
        ),
        "things": st.lists(
            st.tuples(st.integers(-1, 5), st.booleans(), st.booleans()), min_size=1, max_size=6
        ),
        "flattrs": st.lists(
            st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3)), max_size=25
        ),
        "fee_percent": st.sampled_from([0, 7, 10, 15]),
        "charity": st.booleans(),
        # The split runs in this many ranges of supporters side by side.
        "branches": st.integers(1, 4),
    }
)


@pytest.mark.django_db
@given(data=month_data)
def test_sql_split_matches_the_reference(data, settings):
    settings.FLATTR_FEE_PERCENT = data["fee_percent"]
    settings.FLATTR_UNSPENT_BUDGET = "charity" if data["charity"] else "keep"
    settings.FLATTR_PAYOUT_SPLIT_BRANCHES = data["branches"]
    n = next(months)
    period = dt.date(2000 + n // 12, n % 12 + 1, 1)
    users = {}
    db_users = []
    for i, (budget, wallet, owes) in enumerate(data["users"]):
        user = UserFactory(username=f"p{n}u{i}", monthly_budget_cents=budget)
        fund(user, wallet)
        if owes:
            owe(user, 1)
        db_users.append(user)
        users[user.pk] = (budget, wallet, owes)
    things = {}
    db_things = []
    for owner_index, hidden, _ in data["things"]:
        owner = db_users[owner_index % len(db_users)] if owner_index >= 0 else None
        t = thing(owner=owner, hidden=hidden)
        db_things.append(t)
        things[t.pk] = (owner.pk if owner else None, hidden)
    flattrs = []
    seen = set()
    for u_i, t_i, minute in data["flattrs"]:
        user = db_users[u_i % len(db_users)]
        t = db_things[t_i % len(db_things)]
        if (user.pk, t.pk) in seen:
            continue  # one flattr per thing per month (the database enforces it)
        seen.add((user.pk, t.pk))
        f = flattr(user, t, period, day=1, minute=minute)
        flattrs.append((f.pk, user.pk, t.pk, minute))

    run = services.payout_run_compute(period=period)
    taken, shares, charity, creators, unclaimed = reference(
        users, things, flattrs, data["fee_percent"], data["charity"]
    )

    mine = set(users)
    lines = {
        line.supporter_id: line
        for line in SupporterLine.objects.filter(run=run, supporter_id__in=mine)
    }
    assert {u: line.taken for u, line in lines.items()} == taken
    assert {u: line.charity for u, line in lines.items() if line.charity} == charity
    assert run_share_amounts(run) == shares
    assert {
        line.creator_id: (line.gross, line.fee) for line in CreatorLine.objects.filter(run=run)
    } == creators
    assert dict(UnclaimedLine.objects.filter(run=run).values_list("thing_id", "amount")) == {
        k: v for k, v in unclaimed.items() if v
    }
    for line in CreatorLine.objects.filter(run=run):
        assert line.net == line.gross - line.fee
    assert run.conservation_ok
    if not data["charity"]:
        assert run.taken == sum(taken.values())
