"""Each money rule of payouts/rules.py against a plain reference
(hypothesis), and its SQL form against its Python form on the real
database."""

import datetime as dt
import itertools
from fractions import Fraction

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buttons import selectors as button_selectors
from buttons.models import Flattr
from payouts import rules
from payouts.models import PayoutRun
from payouts.services import compute
from payouts.shares import run_shares
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
cents = st.integers(min_value=0, max_value=10**12)
percents = st.integers(min_value=0, max_value=100)
DB_EXAMPLES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# References: the rules said the plainest way -------------------------------


def reference_taken(budget: int, balance: int, owes: bool) -> int:
    if owes or balance <= 0:
        return 0
    return budget if budget < balance else balance


def reference_shares(amount: int, n: int) -> list[int]:
    """Deal the cents one at a time, earliest flattr first."""
    shares = [0] * n
    for cent in range(amount):
        shares[cent % n] += 1
    return shares


def reference_fee(gross: int, percent: int) -> int:
    """Exact fraction, rounded half up."""
    exact = Fraction(gross * percent, 100)
    whole, rest = divmod(exact.numerator, exact.denominator)
    return whole + (1 if 2 * rest >= exact.denominator else 0)


def reference_counts(supporter_id: int, owner_id: int | None, hidden: bool, removed: bool) -> bool:
    if hidden or removed:
        return False
    return owner_id is None or owner_id != supporter_id


# Python forms against the references ----------------------------------------


@given(budget=cents, balance=st.integers(min_value=-(10**12), max_value=10**12), owes=st.booleans())
def test_taken(budget, balance, owes):
    assert rules.taken_cents(budget=budget, balance=balance, owes=owes) == reference_taken(
        budget, balance, owes
    )


@given(amount=st.integers(min_value=0, max_value=5000), n=st.integers(min_value=1, max_value=60))
def test_share(amount, n):
    expected = reference_shares(amount, n)
    assert rules.shares_cents(amount=amount, n=n) == expected
    assert [rules.share_cents(amount=amount, n=n, rank=r) for r in range(1, n + 1)] == expected


@given(gross=cents, percent=percents)
def test_fee_and_net(gross, percent):
    fee = reference_fee(gross, percent)
    assert rules.fee_cents(gross=gross, percent=percent) == fee
    assert rules.net_cents(gross=gross, percent=percent) == gross - fee


@given(
    supporter_id=st.integers(1, 4),
    owner_id=st.none() | st.integers(1, 4),
    hidden=st.booleans(),
    removed=st.booleans(),
)
def test_counts(supporter_id, owner_id, hidden, removed):
    assert rules.flattr_counts(
        supporter_id=supporter_id, owner_id=owner_id, hidden=hidden, removed=removed
    ) == reference_counts(supporter_id, owner_id, hidden, removed)


@given(
    shares=st.lists(st.tuples(st.integers(1, 4), st.integers(0, 10_000)), max_size=60),
    percent=percents,
)
def test_fee_parts_add_up_to_each_creators_fee(shares, percent):
    fees = rules.FeeParts(percent=percent)
    told: dict[int, int] = {}
    gross: dict[int, int] = {}
    for creator, amount in shares:
        part = fees.part(creator_id=creator, amount=amount)
        # Within a cent of the share's exact part.
        assert abs(part - Fraction(amount * percent, 100)) < 1
        told[creator] = told.get(creator, 0) + part
        gross[creator] = gross.get(creator, 0) + amount
    assert told == {c: reference_fee(g, percent) for c, g in gross.items()}


# SQL forms against the Python forms, on the database ------------------------


def _select(expressions: str, columns: str, rows: list[tuple]) -> list[tuple]:
    values = ", ".join(["(" + ", ".join(["%s"] * len(rows[0])) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {expressions} FROM (VALUES {values}) v({columns})",  # noqa: S608
            [value for row in rows for value in row],
        )
        return cursor.fetchall()


@pytest.mark.django_db
@DB_EXAMPLES
@given(
    cases=st.lists(
        st.tuples(cents, st.integers(min_value=-(10**12), max_value=10**12), percents),
        min_size=1,
        max_size=50,
    )
)
def test_taken_fee_and_net_sql(cases):
    rows = [(budget, balance, percent) for budget, balance, percent in cases]
    got = _select(
        f"{rules.taken_sql(budget='b::bigint', balance='w::bigint')},"
        f" {rules.fee_sql(gross='b::bigint', percent='p::bigint')},"
        f" {rules.net_sql(gross='b::bigint', fee=rules.fee_sql(gross='b::bigint', percent='p::bigint'))}",
        "b, w, p",
        rows,
    )
    assert got == [
        (
            rules.taken_cents(budget=b, balance=w),
            rules.fee_cents(gross=b, percent=p),
            rules.net_cents(gross=b, percent=p),
        )
        for b, w, p in rows
    ]


@pytest.mark.django_db
@DB_EXAMPLES
@given(
    cases=st.lists(
        st.integers(1, 50).flatmap(
            lambda n: st.tuples(cents, st.just(n), st.integers(min_value=1, max_value=n))
        ),
        min_size=1,
        max_size=50,
    )
)
def test_share_sql(cases):
    got = _select(
        rules.share_sql(amount="a::bigint", n="n::bigint", rank="r::bigint"), "a, n, r", cases
    )
    assert got == [(rules.share_cents(amount=a, n=n, rank=r),) for a, n, r in cases]


@pytest.mark.django_db
def test_counts_sql_on_every_case():
    rows = [
        (supporter_id, owner_id, hidden, removed)
        for supporter_id, owner_id, hidden, removed in itertools.product(
            [1, 2], [None, 1, 2], [False, True], [False, True]
        )
    ]
    got = _select(
        rules.counts_sql(
            supporter="s::bigint", owner="o::bigint", hidden="h::boolean", removed="r::boolean"
        ),
        "s, o, h, r",
        rows,
    )
    assert got == [
        (rules.flattr_counts(supporter_id=s, owner_id=o, hidden=h, removed=r),)
        for s, o, h, r in rows
    ]


@pytest.mark.django_db
def test_every_form_of_the_counted_rule_agrees_on_a_month():
    """The ORM filter (buttons' pages), the SQL condition, the compute's
    excluded step and the run's derived shares count the same flattrs as the
    Python rule, on every kind of thing."""
    fans = [supporter(budget=500, balance=1000) for _ in range(3)]
    other = UserFactory()
    things = [
        thing(owner=owner, hidden=hidden, removed=removed)
        for owner, hidden, removed in itertools.product(
            [None, other, fans[0], fans[1]], [False, True], [False, True]
        )
    ]
    for fan in fans:
        for minute, t in enumerate(things):
            flattr(fan, t, P, minute=minute)
    month = list(
        Flattr.objects.filter(period=P).values_list(
            "id", "supporter_id", "thing__owner_id", "thing__hidden", "thing__removed"
        )
    )
    expected = {
        f
        for f, s, o, h, r in month
        if rules.flattr_counts(supporter_id=s, owner_id=o, hidden=h, removed=r)
    }
    assert 0 < len(expected) < len(month)

    by_orm = {
        f.pk for fan in fans for f in button_selectors.counted_flattrs(supporter=fan, period=P)
    }
    assert by_orm == expected

    with connection.cursor() as cursor:
        condition = rules.counts_sql(
            supporter="f.supporter_id", owner="t.owner_id", hidden="t.hidden", removed="t.removed"
        )
        cursor.execute(
            f"SELECT f.id FROM buttons_flattr f JOIN buttons_thing t ON t.id = f.thing_id"  # noqa: S608
            f" WHERE f.period = %s AND {condition}",
            [P],
        )
        assert {row[0] for row in cursor.fetchall()} == expected

    # The compute's steps 1 and 2, rolled back with their tables.
    run = PayoutRun(pk=10**9, period=P)
    with transaction.atomic(), connection.cursor() as cursor:
        tables = compute.Tables.of(run)
        params = compute.compute_params(run=run)
        compute.eligible_supporters(cursor, params, tables)
        compute.excluded_flattrs(cursor, params, tables)
        cursor.execute(f"SELECT id FROM {tables.excluded}")  # noqa: S608
        excluded = {row[0] for row in cursor.fetchall()}
        transaction.set_rollback(True)
    assert {f for f, *_ in month} - excluded == expected

    run = compute.payout_run_compute(period=P)
    derived = run_shares(run=run, supporter_ids=[fan.pk for fan in fans])
    assert {share.flattr_id for share in derived} == expected


@pytest.mark.django_db
def test_the_dashboard_estimate_and_the_outlook_use_the_rules():
    fan = supporter(budget=100, balance=1000)
    period = compute.current_period()
    for minute in range(3):
        flattr(fan, thing(), period, minute=minute)
    flattr(fan, thing(owner=fan), period, minute=4)  # one's own: not counted
    from payouts import selectors

    dashboard = selectors.supporter_dashboard(user=fan)
    assert dashboard["outlook"]["amount"] == rules.taken_cents(budget=100, balance=1000)
    assert [f.estimated_share for f in dashboard["flattrs"]] == rules.shares_cents(amount=100, n=3)
    assert dashboard["outlook"]["each"] == 33
