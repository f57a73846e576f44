"""Reads from the ledger. Balances are stored on the account row by the
database, so reading one costs a primary-key lookup however many postings
the account has."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from ledger.models import Account, AccountKind, Posting


def account_balance(*, account: Account) -> int:
    return Account.objects.values_list("balance", flat=True).get(pk=account.pk)


def user_balance(*, user, kind: str) -> int:
    """Balance in cents of ``user``'s account of ``kind`` (0 if never used)."""
    value = Account.objects.filter(user=user, kind=kind).values_list("balance", flat=True).first()
    return value or 0


def wallet_balance(*, user) -> int:
    return user_balance(user=user, kind=AccountKind.WALLET)


def earnings_balance(*, user) -> int:
    return user_balance(user=user, kind=AccountKind.EARNINGS)


def receivable_owed(*, user) -> int:
    """Cents the user owes after a refund or dispute (0 or positive)."""
    return -user_balance(user=user, kind=AccountKind.RECEIVABLE)


def statement_queryset(*, account: Account) -> QuerySet[Posting]:
    return Posting.objects.filter(account=account).select_related("transaction").order_by("-id")


def statement_page(*, account: Account, page: int = 1, per_page: int = 25) -> Page:
    """Newest first; uses the (account, -id) index."""
    paginator = Paginator(statement_queryset(account=account), per_page)
    return paginator.get_page(page)


def ledger_problems() -> list[str]:
    """Every ledger invariant checked over the whole ledger, set-based.

    Returns one human-readable line per problem; an empty list means healthy.
    """
    from django.db import connection

    from ledger.models import NON_NEGATIVE_KINDS

    checks = [
        (
            """
            SELECT t.id, coalesce(sum(p.amount), 0), count(p.id)
              FROM ledger_transaction t LEFT JOIN ledger_posting p ON p.transaction_id = t.id
             GROUP BY t.id
            HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.id) < 2
             LIMIT 100
            """,
            [],
            lambda r: f"transaction {r[0]} is unbalanced: {r[2]} postings sum to {r[1]}",
        ),
        (
            """
            SELECT a.id, a.kind, a.balance, coalesce(s.total, 0)
              FROM ledger_account a
              LEFT JOIN (SELECT account_id, sum(amount) AS total
                           FROM ledger_posting GROUP BY account_id) s ON s.account_id = a.id
             WHERE a.balance <> coalesce(s.total, 0)
             LIMIT 100
            """,
            [],
            lambda r: (
                f"account {r[0]} ({r[1]}) stores balance {r[2]} but its postings sum to {r[3]}"
            ),
        ),
        (
            "SELECT id, kind, balance FROM ledger_account"
            " WHERE kind = ANY(%s) AND balance < 0 LIMIT 100",
            [[str(k) for k in NON_NEGATIVE_KINDS]],
            lambda r: f"account {r[0]} ({r[1]}) is negative: {r[2]}",
        ),
        (
            "SELECT id, balance FROM ledger_account"
            " WHERE kind = 'receivable' AND balance > 0 LIMIT 100",
            [],
            lambda r: f"receivable account {r[0]} is in credit: {r[1]}",
        ),
        (
            "SELECT sum(balance) FROM ledger_account HAVING sum(balance) <> 0",
            [],
            lambda r: f"balances of all accounts sum to {r[0]}, not 0",
        ),
    ]
    problems: list[str] = []
    with connection.cursor() as cursor:
        for sql, params, describe in checks:
            cursor.execute(sql, params)
            problems.extend(describe(row) for row in cursor.fetchall())
    return problems


def ledger_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM ledger_account), (SELECT count(*) FROM ledger_transaction),"
            " (SELECT count(*) FROM ledger_posting)"
        )
        accounts, transactions, postings = cursor.fetchone()
    return {"accounts": accounts, "transactions": transactions, "postings": postings}
