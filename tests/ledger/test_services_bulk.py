"""``transactions_post_many`` and ``transaction_post_for_users``: many
postings at once, every rule kept."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import F

from accounts.models import User
from ledger import selectors, services
from ledger.models import Account, AccountKind, Posting, Transaction, TransactionKind
from ledger.services import NewTransaction, Reference, UserLegs
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


def _budgets(cents: list[int]) -> list:
    users, wallets = _wallets(len(cents))
    services.transactions_post_many(transactions=_topups(wallets, cents=500, prefix="fund"))
    for user, budget in zip(users, cents, strict=True):
        User.objects.filter(pk=user.pk).update(monthly_budget_cents=budget)
    return users


def _spend(users: list) -> UserLegs:
    """Each user's wallet -budget (the shape of a payout's supporter chunk)."""
    rows = User.objects.filter(pk__in=[u.pk for u in users]).values_list(
        "pk", F("monthly_budget_cents") * -1
    )
    return UserLegs(kind=AccountKind.WALLET, rows=rows)


def _post_for_users(legs: UserLegs, key: str = "users:1", balance: int | None = None) -> int:
    return services.transaction_post_for_users(
        kind=TransactionKind.PAYOUT,
        idempotency_key=key,
        user_legs=legs,
        balance_account_id=balance or _clearing(),
        memo="payout",
        reference=Reference(source="tests.users", object_id=7, period=dt.date(2026, 9, 1)),
    )


def _clearing() -> int:
    return services.platform_account(kind=AccountKind.PAYOUT_CLEARING).pk


class TestTransactionPostForUsers:
    def test_one_leg_per_user_read_by_the_database_and_one_balancing_leg(self):
        users = _budgets([100, 250, 0])
        assert _post_for_users(_spend(users)) == 1
        assert [selectors.wallet_balance(user=u) for u in users] == [400, 250, 500]
        txn = Transaction.objects.get(idempotency_key="users:1")
        assert (txn.kind, txn.memo, txn.source, txn.source_id, txn.period) == (
            "payout",
            "payout",
            "tests.users",
            7,
            dt.date(2026, 9, 1),
        )
        # The zero leg is dropped; the clearing account takes the sum.
        assert sorted(txn.postings.values_list("amount", flat=True)) == [-250, -100, 350]
        assert Account.objects.get(pk=_clearing()).balance == 350
        assert selectors.ledger_problems() == []

    def test_the_same_key_again_moves_nothing(self):
        users = _budgets([100])
        assert _post_for_users(_spend(users)) == 1
        assert _post_for_users(_spend(users)) == 0
        assert selectors.wallet_balance(user=users[0]) == 400
        assert Posting.objects.filter(transaction__idempotency_key="users:1").count() == 2

    def test_all_zero_legs_write_nothing(self):
        users = _budgets([0, 0])
        assert _post_for_users(_spend(users)) == 0
        assert not Transaction.objects.filter(idempotency_key="users:1").exists()

    def test_accounts_missing_are_created(self):
        users = [UserFactory() for _ in range(2)]
        User.objects.filter(pk=users[0].pk).update(monthly_budget_cents=30)
        User.objects.filter(pk=users[1].pk).update(monthly_budget_cents=70)
        earned = UserLegs(
            kind=AccountKind.EARNINGS,
            rows=User.objects.filter(pk__in=[u.pk for u in users]).values_list(
                "pk", "monthly_budget_cents"
            ),
        )
        outside = services.platform_account(kind=AccountKind.OUTSIDE, ref="tests").pk
        assert _post_for_users(earned, balance=outside) == 1
        assert [Account.objects.get(kind=AccountKind.EARNINGS, user=u).balance for u in users] == [
            30,
            70,
        ]
        assert Account.objects.get(pk=outside).balance == -100

    def test_legs_of_one_user_are_merged(self):
        users = _budgets([100, 40])
        twice = _spend(users).rows.union(_spend(users[:1]).rows, all=True)
        assert _post_for_users(UserLegs(kind=AccountKind.WALLET, rows=twice)) == 1
        assert [selectors.wallet_balance(user=u) for u in users] == [300, 460]
        txn = Transaction.objects.get(idempotency_key="users:1")
        assert sorted(txn.postings.values_list("amount", flat=True)) == [-200, -40, 240]

    def test_one_overdraft_refuses_the_whole_transaction(self):
        users = _budgets([100, 501, 20])
        with pytest.raises(services.InsufficientFunds), transaction.atomic():
            _post_for_users(_spend(users))
        assert [selectors.wallet_balance(user=u) for u in users] == [500] * 3
        assert not Transaction.objects.filter(idempotency_key="users:1").exists()

    def test_legs_on_platform_accounts_are_refused(self):
        rows = User.objects.values_list("pk", "monthly_budget_cents")
        with pytest.raises(ValueError, match="do not belong to users"):
            _post_for_users(UserLegs(kind=AccountKind.PLATFORM_FEES, rows=rows))
        assert not Transaction.objects.exists()
