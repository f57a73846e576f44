"""The database itself refuses what would break the ledger (migrations 0002, 0007, 0011)."""

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
        with pytest.raises(IntegrityError, match="sealed"):
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


# Migration 0007: a transaction is checked and sealed by the statement that
# writes its postings; later postings for it are refused, in the same
# database transaction or any later one, whatever SET CONSTRAINTS calls
# happen between. TRUNCATE is refused like UPDATE and DELETE.
transactional = pytest.mark.django_db(transaction=True)


def _fund(user, cents: int, key: str) -> Transaction:
    fund(user, cents, key=key)
    return Transaction.objects.get(idempotency_key=key)


def _insert_postings(cursor, rows: list[tuple[int, int, int]]) -> None:
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    cursor.execute(
        f"INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES {values}",  # noqa: S608
        [value for row in rows for value in row],
    )


def _insert_transaction(cursor, key: str) -> int:
    cursor.execute(
        "INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)"
        " VALUES ('adjustment', %s, '', now()) RETURNING id",
        [key],
    )
    return cursor.fetchone()[0]


@transactional
@pytest.mark.parametrize(
    "set_constraints",
    [
        [],
        ["SET CONSTRAINTS ALL IMMEDIATE"],
        ["SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL DEFERRED"],
    ],
)
def test_a_posting_added_to_a_checked_transaction_is_refused(set_constraints):
    user = UserFactory()
    wallet = services.wallet_account(user=user)
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            txn = _fund(user, 1000, "early")
            with connection.cursor() as cursor:
                for sql in set_constraints:
                    cursor.execute(sql)
                _insert_postings(cursor, [(txn.pk, wallet.pk, 5)])
    assert not Transaction.objects.exists()
    assert selectors.wallet_balance(user=user) == 0
    assert selectors.ledger_problems() == []


@transactional
def test_balanced_postings_added_to_a_committed_transaction_are_refused():
    user = UserFactory()
    txn = _fund(user, 1000, "old")
    wallet = services.wallet_account(user=user)
    with pytest.raises(IntegrityError, match="sealed"):
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_postings(cursor, [(txn.pk, wallet.pk, 5), (txn.pk, outside_account().pk, -5)])
    assert Posting.objects.filter(transaction=txn).count() == 2
    assert selectors.wallet_balance(user=user) == 1000


@transactional
def test_an_unbalanced_statement_is_refused_at_once():
    user = UserFactory()
    wallet = services.wallet_account(user=user)
    with transaction.atomic(), connection.cursor() as cursor:
        new_id = _insert_transaction(cursor, "half")
        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            _insert_postings(cursor, [(new_id, wallet.pk, 5)])
        # The other half in a second statement cannot complete it either.
        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            _insert_postings(cursor, [(new_id, outside_account().pk, -5)])
        transaction.set_rollback(True)
    assert not Transaction.objects.exists()


@transactional
@pytest.mark.parametrize("early_check", [False, True], ids=["at_commit", "early_check"])
def test_a_transaction_without_postings_cannot_commit(early_check):
    with pytest.raises(IntegrityError, match="no postings"):
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_transaction(cursor, "empty")
            if early_check:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not Transaction.objects.exists()


@transactional
def test_many_transactions_in_one_statement_are_each_checked():
    users = [UserFactory() for _ in range(3)]
    wallets = [services.wallet_account(user=u) for u in users]
    outside = outside_account()
    with transaction.atomic(), connection.cursor() as cursor:
        ids = [_insert_transaction(cursor, f"many:{i}") for i in range(3)]
        _insert_postings(
            cursor,
            [(ids[i], wallets[i].pk, 100 + i) for i in range(3)]
            + [(ids[i], outside.pk, -(100 + i)) for i in range(3)],
        )
    assert [selectors.wallet_balance(user=u) for u in users] == [100, 101, 102]
    assert selectors.ledger_problems() == []
    with pytest.raises(IntegrityError, match=f"transaction {ids[1] + 10}"):
        with transaction.atomic(), connection.cursor() as cursor:
            more = [_insert_transaction(cursor, f"more:{i}") for i in range(12)]
            assert more[-1] >= ids[1] + 10
            rows = [(t, wallets[0].pk, 1) for t in more] + [(t, outside.pk, -1) for t in more]
            rows.append((ids[1] + 10, outside.pk, -1))
            _insert_postings(cursor, rows)
    assert selectors.wallet_balance(user=users[0]) == 100


@transactional
def test_a_large_transaction_is_checked_in_one_statement():
    users = [UserFactory() for _ in range(5)]
    wallets = [services.wallet_account(user=u) for u in users]
    with transaction.atomic(), connection.cursor() as cursor:
        new_id = _insert_transaction(cursor, "large")
        # 20,000 postings on five wallets and one balancing leg.
        cursor.execute(
            """
            INSERT INTO ledger_posting (transaction_id, account_id, amount)
            SELECT %(t)s, (%(wallets)s::bigint[])[1 + g %% 5], 1 FROM generate_series(1, 20000) g
            UNION ALL SELECT %(t)s, %(outside)s, -20000
            """,
            {"t": new_id, "wallets": [w.pk for w in wallets], "outside": outside_account().pk},
        )
    assert [selectors.wallet_balance(user=u) for u in users] == [4000] * 5
    assert selectors.ledger_problems() == []


@transactional
@pytest.mark.parametrize("table", ["ledger_posting", "ledger_transaction", "ledger_account"])
def test_truncate_of_a_ledger_table_is_refused(table):
    user = UserFactory()
    _fund(user, 1000, "kept")
    with pytest.raises(DatabaseError, match="insert-only"), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert Posting.objects.count() == 2
    assert selectors.wallet_balance(user=user) == 1000


@transactional
@pytest.mark.parametrize("missing", ["transaction", "account"])
def test_a_posting_must_refer_to_an_existing_transaction_and_account(missing):
    """Checked once per statement (migration 0011), not by a foreign key per
    posting: one missing reference among many refuses the whole statement."""
    users = [UserFactory() for _ in range(3)]
    wallets = [services.wallet_account(user=u).pk for u in users]
    outside = outside_account().pk
    with pytest.raises(IntegrityError, match=f"refers to {missing} .* does not exist"):
        with transaction.atomic(), connection.cursor() as cursor:
            txn = _insert_transaction(cursor, "dangling")
            rows = [(txn, wallet, 100) for wallet in wallets] + [(txn, outside, -300)]
            bad = (txn + 1000, wallets[1], 100) if missing == "transaction" else (txn, 10**12, 100)
            rows[1] = bad
            _insert_postings(cursor, rows)
    assert not Transaction.objects.exists() and not Posting.objects.exists()
    assert [selectors.wallet_balance(user=u) for u in users] == [0, 0, 0]


@transactional
def test_a_used_account_can_neither_go_nor_change_its_id():
    user = UserFactory()
    _fund(user, 1000, "kept")
    wallet = services.wallet_account(user=user)
    with connection.cursor() as cursor:
        with pytest.raises(DatabaseError, match="cannot change its id"), transaction.atomic():
            cursor.execute("UPDATE ledger_account SET id = id + 1000 WHERE id = %s", [wallet.pk])
        with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
            cursor.execute("DELETE FROM ledger_account WHERE id = %s", [wallet.pk])
    assert Posting.objects.filter(account_id=wallet.pk).count() == 1
    assert selectors.wallet_balance(user=user) == 1000
