"""The database itself refuses what would break the ledger (migration 0002)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from ledger import selectors, services
from ledger.models import Posting, Transaction
from tests.concurrency import at_once
from tests.factories import UserFactory, fund, outside_account


@pytest.mark.django_db(transaction=True)
class TestDatabaseRefusesRawWrites:
    """Each money rule is enforced by PostgreSQL itself."""

    def _balanced(self):
        user = UserFactory()
        fund(user, 1000, key="raw")
        return Transaction.objects.get(idempotency_key="raw"), user

    def test_unbalanced_transaction_is_refused_at_commit(self):
        txn, user = self._balanced()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError, match="unbalanced"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, 5)",
                    [txn.pk, wallet.pk],
                )
        assert selectors.wallet_balance(user=user) == 1000
        assert selectors.ledger_problems() == []

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE ledger_posting SET amount = amount * 2",
            "DELETE FROM ledger_posting",
            "UPDATE ledger_transaction SET memo = 'changed'",
            "DELETE FROM ledger_transaction",
        ],
    )
    def test_postings_and_transactions_are_insert_only(self, sql):
        self._balanced()
        with pytest.raises(DatabaseError, match="insert-only"), connection.cursor() as cursor:
            cursor.execute(sql)
        assert Posting.objects.count() == 2
        assert Transaction.objects.get().memo == ""

    def test_balance_cannot_be_written_directly(self):
        txn, user = self._balanced()
        with (
            pytest.raises(DatabaseError, match="derived from postings"),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE ledger_account SET balance = balance + 100")
        assert selectors.wallet_balance(user=user) == 1000

    def test_wallet_cannot_go_negative_even_by_raw_sql(self):
        txn, user = self._balanced()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError, match="balance_never_negative"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)"
                    " VALUES ('adjustment', 'neg', '', now()) RETURNING id"
                )
                new_id = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, -1001), (%s, %s, 1001)",
                    [new_id, wallet.pk, new_id, outside_account().pk],
                )
        assert selectors.wallet_balance(user=user) == 1000

    def test_single_posting_transaction_is_refused(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)"
                " VALUES ('adjustment', 'one', '', now()) RETURNING id"
            )
            new_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, 0)",
                [new_id, wallet.pk],
            )
        assert not Transaction.objects.filter(idempotency_key="one").exists()

    def test_concurrent_posts_with_one_key_post_once(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        outside = outside_account()
        results = at_once(
            8,
            lambda i: services.transaction_post(
                kind="topup", idempotency_key="race", legs=[(outside, -700), (wallet, 700)]
            ),
        )
        results = [(txn.pk, created) for txn, created in results]
        assert len({pk for pk, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        assert selectors.wallet_balance(user=user) == 700
        assert selectors.ledger_problems() == []

    def test_concurrent_debits_never_overdraw(self):
        user = UserFactory()
        wallet, _ = fund(user, 1000, key="fund")
        outside = outside_account()
        results = at_once(
            6,
            lambda i: services.transaction_post(
                kind="adjustment",
                idempotency_key=f"spend{i}",
                legs=[(wallet, -300), (outside, 300)],
            ),
        )
        refused = [r for r in results if isinstance(r, services.InsufficientFunds)]
        assert len(refused) == 3
        assert all(isinstance(r, tuple) or r in refused for r in results)
        assert selectors.wallet_balance(user=user) == 100
        assert selectors.ledger_problems() == []

    def test_ledger_check_names_a_broken_balance(self, capsys):
        txn, user = self._balanced()
        call_command("ledger_check")
        assert "OK" in capsys.readouterr().out
        wallet = services.wallet_account(user=user)
        with connection.cursor() as cursor:
            # Simulate corruption that bypasses the rules (e.g. a restore gone wrong).
            cursor.execute("ALTER TABLE ledger_account DISABLE TRIGGER ledger_account_guard")
            cursor.execute("UPDATE ledger_account SET balance = 999 WHERE id = %s", [wallet.pk])
            cursor.execute("ALTER TABLE ledger_account ENABLE TRIGGER ledger_account_guard")
        with pytest.raises(SystemExit) as exit_info:
            call_command("ledger_check")
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert (
            f"account {wallet.pk} (wallet) stores balance 999 but its postings sum to 1000" in err
        )
