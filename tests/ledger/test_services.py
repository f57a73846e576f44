"""Posting, reversing and adjusting through ledger.services."""

import pytest

from ledger import selectors, services
from ledger.models import Account, AccountKind, Posting, Transaction, TransactionKind
from tests.factories import UserFactory, fund, outside_account


def _top_up_1_to_n_cents(wallet: Account, n: int) -> None:
    """``n`` top-ups of ``wallet``: 1 cent, 2 cents, ... ``n`` cents."""
    for cents in range(1, n + 1):
        services.transaction_post(
            kind="topup",
            idempotency_key=f"topup:{wallet.pk}:{cents}",
            legs=[(outside_account(), -cents), (wallet, cents)],
        )


@pytest.mark.django_db
class TestTransactionPost:
    def test_same_key_twice_posts_once_and_returns_the_first(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        first, created1 = services.transaction_post(
            kind="topup", idempotency_key="k1", legs=[(outside_account(), -800), (wallet, 800)]
        )
        second, created2 = services.transaction_post(
            kind="topup", idempotency_key="k1", legs=[(outside_account(), -800), (wallet, 800)]
        )
        assert (created1, created2) == (True, False)
        assert first.pk == second.pk
        assert selectors.wallet_balance(user=user) == 800
        assert Posting.objects.filter(transaction=first).count() == 2

    def test_unbalanced_legs_are_refused_before_the_database(self):
        user = UserFactory()
        with pytest.raises(services.UnbalancedTransaction):
            services.transaction_post(
                kind="topup",
                idempotency_key="bad",
                legs=[(outside_account(), -800), (services.wallet_account(user=user), 799)],
            )
        assert not Transaction.objects.filter(idempotency_key="bad").exists()

    def test_floats_are_refused(self):
        user = UserFactory()
        with pytest.raises(TypeError):
            services.transaction_post(
                kind="topup",
                idempotency_key="f",
                legs=[(outside_account(), -8.0), (services.wallet_account(user=user), 8.0)],
            )

    def test_overdraft_raises_and_writes_nothing(self):
        user = UserFactory()
        wallet, _ = fund(user, 500, key="fund")
        with pytest.raises(services.InsufficientFunds):
            services.transaction_post(
                kind="adjustment",
                idempotency_key="over",
                legs=[(wallet, -501), (outside_account(), 501)],
            )
        assert selectors.wallet_balance(user=user) == 500
        assert not Transaction.objects.filter(idempotency_key="over").exists()

    def test_balance_follows_many_postings(self):
        user = UserFactory()
        _top_up_1_to_n_cents(services.wallet_account(user=user), 50)
        assert selectors.wallet_balance(user=user) == sum(range(1, 51))
        assert selectors.ledger_problems() == []

    def test_statement_is_newest_first_and_paginated(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        _top_up_1_to_n_cents(wallet, 30)
        page = selectors.statement_page(account=wallet, page=1, per_page=25)
        assert [p.amount for p in page][:3] == [30, 29, 28]
        assert page.paginator.num_pages == 2
        assert [
            p.amount for p in selectors.statement_page(account=wallet, page=2, per_page=25)
        ] == [5, 4, 3, 2, 1]


@pytest.mark.django_db
class TestTransactionReverse:
    def test_posts_the_exact_negation_once_per_key(self):
        user = UserFactory()
        wallet, topup = fund(user, 800, key="t1")
        first, created1 = services.transaction_reverse(
            transaction=topup, idempotency_key="rev:t1", memo="refund"
        )
        second, created2 = services.transaction_reverse(
            transaction=topup, idempotency_key="rev:t1", memo="refund"
        )
        assert (created1, created2) == (True, False)
        assert first.pk == second.pk
        assert first.kind == TransactionKind.REVERSAL
        assert first.memo == "refund"
        assert sorted(first.postings.values_list("account_id", "amount")) == sorted(
            (account_id, -amount)
            for account_id, amount in topup.postings.values_list("account_id", "amount")
        )
        assert selectors.wallet_balance(user=user) == 0
        assert selectors.ledger_problems() == []

    def test_refused_when_the_money_was_already_spent(self):
        user = UserFactory()
        wallet, topup = fund(user, 800, key="t2")
        services.transaction_post(
            kind="adjustment",
            idempotency_key="spend",
            legs=[(wallet, -500), (outside_account(), 500)],
        )
        with pytest.raises(services.InsufficientFunds):
            services.transaction_reverse(transaction=topup, idempotency_key="rev:t2", memo="")
        assert not Transaction.objects.filter(idempotency_key="rev:t2").exists()
        assert selectors.wallet_balance(user=user) == 300


@pytest.mark.django_db
class TestWalletAdjustService:
    def test_credit_is_an_adjustment_against_the_adjustments_account(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        txn = services.wallet_adjust(user=user, amount_cents=250, reason="goodwill", staff=staff)
        assert txn.kind == TransactionKind.ADJUSTMENT
        assert txn.created_by == staff
        assert "goodwill" in txn.memo
        counter = Account.objects.get(kind=AccountKind.OUTSIDE, ref=services.ADJUSTMENTS_REF)
        assert dict(txn.postings.values_list("account_id", "amount")) == {
            services.wallet_account(user=user).pk: 250,
            counter.pk: -250,
        }

    def test_debit_to_exactly_zero_is_allowed_and_one_cent_more_is_not(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        fund(user, 300, key="f")
        with pytest.raises(services.InsufficientFunds):
            services.wallet_adjust(user=user, amount_cents=-301, reason="r", staff=staff)
        assert Transaction.objects.filter(kind="adjustment").count() == 0
        services.wallet_adjust(user=user, amount_cents=-300, reason="r", staff=staff)
        assert selectors.wallet_balance(user=user) == 0

    @pytest.mark.parametrize(
        "amount, reason, is_staff",
        [(0, "r", True), (100, "", True), (100, "r", False)],
    )
    def test_bad_input_is_refused_and_writes_nothing(self, amount, reason, is_staff):
        staff = UserFactory(is_staff=is_staff)
        user = UserFactory()
        with pytest.raises(services.AdjustmentRefused):
            services.wallet_adjust(user=user, amount_cents=amount, reason=reason, staff=staff)
        assert not Transaction.objects.exists()
        assert not Account.objects.exists()

    def test_default_keys_are_distinct(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        services.wallet_adjust(user=user, amount_cents=100, reason="a", staff=staff)
        services.wallet_adjust(user=user, amount_cents=100, reason="b", staff=staff)
        assert selectors.wallet_balance(user=user) == 200


@pytest.mark.django_db
def test_unknown_transaction_kind_is_refused():
    wallet = services.wallet_account(user=UserFactory())
    with pytest.raises(ValueError, match="unknown transaction kind"):
        services.transaction_post(
            kind="gift", idempotency_key="g", legs=[(outside_account(), -1), (wallet, 1)]
        )
    assert not Transaction.objects.exists()
