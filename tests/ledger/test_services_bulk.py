"""``transactions_post_many``: many transactions at once, every rule kept."""

import datetime as dt

import pytest
from django.db import transaction

from ledger import selectors, services
from ledger.models import AccountKind, Posting, Transaction, TransactionKind
from ledger.services import NewTransaction, Reference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _outside() -> int:
    return services.platform_account(kind=AccountKind.OUTSIDE).pk


def _wallets(n: int) -> tuple[list, list[int]]:
    users = [UserFactory() for _ in range(n)]
    return users, [services.wallet_account(user=u).pk for u in users]


def _topups(wallets: list[int], cents: int = 500, prefix: str = "bulk") -> list[NewTransaction]:
    return [
        NewTransaction(
            kind=TransactionKind.TOPUP,
            idempotency_key=f"{prefix}:{i}",
            legs=[(_outside(), -cents), (wallet, cents)],
            memo="bulk top-up",
            reference=Reference(source="tests.bulk", object_id=i, period=dt.date(2026, 9, 1)),
        )
        for i, wallet in enumerate(wallets)
    ]


def test_many_transactions_post_once_each_with_their_reference():
    users, wallets = _wallets(4)
    assert services.transactions_post_many(transactions=_topups(wallets)) == 4
    # The same keys again: nothing moves twice.
    assert services.transactions_post_many(transactions=_topups(wallets)) == 0
    assert [selectors.wallet_balance(user=u) for u in users] == [500] * 4
    txn = Transaction.objects.get(idempotency_key="bulk:2")
    assert (txn.kind, txn.source, txn.source_id, txn.period) == (
        "topup",
        "tests.bulk",
        2,
        dt.date(2026, 9, 1),
    )
    assert Posting.objects.count() == 8
    assert selectors.ledger_problems() == []


def test_legs_on_one_account_are_merged():
    users, wallets = _wallets(1)
    item = NewTransaction(
        kind=TransactionKind.TOPUP,
        idempotency_key="merged",
        legs=[(_outside(), -300), (wallets[0], 100), (wallets[0], 200)],
    )
    services.transactions_post_many(transactions=[item])
    assert Posting.objects.filter(transaction__idempotency_key="merged").count() == 2
    assert selectors.wallet_balance(user=users[0]) == 300


@pytest.mark.parametrize(
    "legs, error",
    [
        ([(1, -5), (2, 4)], services.UnbalancedTransaction),
        ([(1, 5), (1, -5)], services.UnbalancedTransaction),
        ([(1, -5.0), (2, 5.0)], TypeError),
    ],
)
def test_bad_legs_are_refused_before_anything_is_written(legs, error):
    with pytest.raises(error):
        NewTransaction(kind=TransactionKind.TOPUP, idempotency_key="bad", legs=legs)
    assert not Transaction.objects.exists()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown transaction kind"):
        NewTransaction(kind="gift", idempotency_key="k", legs=[(1, -1), (2, 1)])


def test_one_overdraft_refuses_the_whole_batch():
    users, wallets = _wallets(3)
    services.transactions_post_many(transactions=_topups(wallets, cents=100))
    spend = [
        NewTransaction(
            kind=TransactionKind.ADJUSTMENT,
            idempotency_key=f"spend:{i}",
            legs=[(wallet, -(100 if i != 1 else 101)), (_outside(), 100 if i != 1 else 101)],
        )
        for i, wallet in enumerate(wallets)
    ]
    with pytest.raises(services.InsufficientFunds), transaction.atomic():
        services.transactions_post_many(transactions=spend)
    assert [selectors.wallet_balance(user=u) for u in users] == [100] * 3
    assert not Transaction.objects.filter(idempotency_key__startswith="spend:").exists()


def test_repeated_keys_in_one_call_are_refused():
    _users, wallets = _wallets(1)
    items = _topups(wallets) + _topups(wallets)
    with pytest.raises(ValueError, match="repeat"):
        services.transactions_post_many(transactions=items)
    assert not Transaction.objects.exists()


def test_accounts_are_ensured_in_bulk():
    users = [UserFactory() for _ in range(3)]
    first = services.accounts_ensure(kind=AccountKind.EARNINGS, user_ids=[u.pk for u in users])
    again = services.accounts_ensure(kind=AccountKind.EARNINGS, user_ids=[u.pk for u in users])
    assert first == again and set(first) == {u.pk for u in users}
    holdings = services.accounts_ensure(kind=AccountKind.UNCLAIMED, refs=["thing:1", "thing:2"])
    assert set(holdings) == {"thing:1", "thing:2"}
