"""The ledger's rules as PostgreSQL enforces them (migrations), by raw SQL.

A transaction is checked and sealed by the statement that writes its
postings: later postings for it, in the same database transaction or any
later one, are refused whatever ``SET CONSTRAINTS`` calls happen between.
"""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger import selectors, services
from ledger.models import AccountKind, Posting, Transaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _outside():
    return services.platform_account(kind=AccountKind.OUTSIDE)


def _fund(user, cents: int, key: str) -> Transaction:
    txn, _created = services.transaction_post(
        kind="topup",
        idempotency_key=key,
        legs=[(_outside(), -cents), (services.wallet_account(user=user), cents)],
    )
    return txn


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


def test_balanced_postings_added_to_a_committed_transaction_are_refused():
    user = UserFactory()
    txn = _fund(user, 1000, "old")
    wallet = services.wallet_account(user=user)
    with pytest.raises(IntegrityError, match="sealed"):
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_postings(cursor, [(txn.pk, wallet.pk, 5), (txn.pk, _outside().pk, -5)])
    assert Posting.objects.filter(transaction=txn).count() == 2
    assert selectors.wallet_balance(user=user) == 1000


def test_an_unbalanced_statement_is_refused_at_once():
    user = UserFactory()
    wallet = services.wallet_account(user=user)
    with transaction.atomic(), connection.cursor() as cursor:
        new_id = _insert_transaction(cursor, "half")
        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            _insert_postings(cursor, [(new_id, wallet.pk, 5)])
        # The other half in a second statement cannot complete it either.
        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            _insert_postings(cursor, [(new_id, _outside().pk, -5)])
        transaction.set_rollback(True)
    assert not Transaction.objects.exists()


def test_a_transaction_without_postings_cannot_commit():
    with pytest.raises(IntegrityError, match="no postings"):
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_transaction(cursor, "empty")
    assert not Transaction.objects.exists()


def test_a_transaction_without_postings_is_refused_by_an_early_check():
    with pytest.raises(IntegrityError, match="no postings"):
        with transaction.atomic(), connection.cursor() as cursor:
            _insert_transaction(cursor, "empty")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not Transaction.objects.exists()


def test_many_transactions_in_one_statement_are_each_checked():
    users = [UserFactory() for _ in range(3)]
    wallets = [services.wallet_account(user=u) for u in users]
    outside = _outside()
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
            {"t": new_id, "wallets": [w.pk for w in wallets], "outside": _outside().pk},
        )
    assert [selectors.wallet_balance(user=u) for u in users] == [4000] * 5
    assert selectors.ledger_problems() == []


@pytest.mark.parametrize("table", ["ledger_posting", "ledger_transaction", "ledger_account"])
def test_truncate_of_a_ledger_table_is_refused(table):
    user = UserFactory()
    _fund(user, 1000, "kept")
    with pytest.raises(DatabaseError, match="insert-only"), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert Posting.objects.count() == 2
    assert selectors.wallet_balance(user=user) == 1000
