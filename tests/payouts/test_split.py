"""One split rule: the Python form (previews) and the SQL form (the run)
agree, value by value and on random months."""

import datetime as dt
import random

import pytest
from django.db import connection

from buttons.models import Flattr
from payouts import selectors, services
from payouts.models import SupporterLine
from payouts.rules import fee_cents, fee_sql, share_cents, share_sql, shares_cents
from payouts.shares import run_shares
from tests.factories import UserFactory
from tests.payouts.helpers import flattr, supporter, thing


@pytest.mark.parametrize("amount, n", [(0, 1), (1, 3), (100, 3), (101, 7), (999_999, 10)])
def test_shares_add_up_and_the_earliest_get_the_remainder(amount, n):
    shares = shares_cents(amount=amount, n=n)
    assert sum(shares) == amount
    assert shares == sorted(shares, reverse=True)
    assert max(shares) - min(shares) <= 1
    assert shares.count(amount // n + 1) == (amount % n if amount % n else 0)


@pytest.mark.django_db
def test_sql_and_python_forms_agree_on_random_values():
    rng = random.Random(15)
    cases = []
    for _ in range(500):
        n = rng.randint(1, 40)
        cases.append((rng.randint(0, 10**9), n, rng.randint(1, n), rng.randint(0, 100)))
    values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::bigint)"] * len(cases))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {share_sql(amount='a', n='n', rank='r')}, {fee_sql(gross='a', percent='p')}"  # noqa: S608
            f" FROM (VALUES {values}) v(a, n, r, p)",
            [value for case in cases for value in case],
        )
        rows = cursor.fetchall()
    assert rows == [
        (share_cents(amount=a, n=n, rank=r), fee_cents(gross=a, percent=p)) for a, n, r, p in cases
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_run_splits_like_the_preview_rule_on_random_months(seed):
    rng = random.Random(seed)
    period = dt.date(2026, 9, 1)
    creators = [UserFactory() for _ in range(3)]
    things = [thing(owner=rng.choice([*creators, None])) for _ in range(8)]
    for _ in range(6):
        s = supporter(budget=rng.randint(1, 2000), balance=rng.randint(1, 2000))
        for index, t in enumerate(rng.sample(things, rng.randint(1, 6))):
            flattr(s, t, period, day=rng.randint(1, 28), minute=index)
    run = services.payout_run_compute(period=period)
    assert run.conservation_ok
    for line in SupporterLine.objects.filter(run=run):
        order = list(
            Flattr.objects.filter(supporter_id=line.supporter_id, period=period)
            .order_by("created_at", "id")
            .values_list("id", flat=True)
        )
        amounts = {
            share.flattr_id: share.amount
            for share in run_shares(run=run, supporter_ids=[line.supporter_id])
        }
        assert [amounts[f] for f in order] == shares_cents(amount=line.taken, n=line.flattrs)


@pytest.mark.django_db
def test_the_preview_uses_the_rule():
    s = supporter(budget=100, balance=1000)
    period = services.compute.current_period()
    for minute in range(3):
        flattr(s, thing(), period, minute=minute)
    preview = selectors.supporter_month_preview(user=s)
    assert [share["amount"] for share in preview["shares"]] == [34, 33, 33]
