"""Reads from the ledger. Balances are stored on the account row by the
database, so reading one costs a primary-key lookup however many postings
the account has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from ledger.models import NON_NEGATIVE_KINDS, Account, AccountKind, Posting


def account_balance(*, account: Account) -> int:
    return Account.objects.values_list("balance", flat=True).get(pk=account.pk)


def user_balance(*, user: User, kind: str) -> int:
    """Balance in cents of ``user``'s account of ``kind`` (0 if never used)."""
    value = Account.objects.filter(user=user, kind=kind).values_list("balance", flat=True).first()
    return value or 0


def wallet_balance(*, user: User) -> int:
    return user_balance(user=user, kind=AccountKind.WALLET)


def earnings_balance(*, user: User) -> int:
    return user_balance(user=user, kind=AccountKind.EARNINGS)


def receivable_owed(*, user: User) -> int:
    """Cents the user owes after a refund or dispute (0 or positive)."""
    return -user_balance(user=user, kind=AccountKind.RECEIVABLE)


def statement_queryset(*, account: Account) -> QuerySet[Posting]:
    return Posting.objects.filter(account=account).select_related("transaction").order_by("-id")


class StatementPage(Page):
    """A page that knows whether an older page exists without counting."""

    def __init__(
        self, object_list: Sequence[Any], number: int, paginator: Paginator, *, more: bool
    ) -> None:
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        return self._more

    def next_page_number(self) -> int:
        if not self._more:
            raise EmptyPage("That page contains no results")
        return self.number + 1

    def previous_page_number(self) -> int:
        if self.number <= 1:
            raise EmptyPage("That page number is less than 1")
        return self.number - 1


class StatementPaginator(Paginator):
    """Pages a statement without ``SELECT count(*)``: an account with a
    million postings would pay for a full index scan on every page view.
    Fetching ``per_page + 1`` rows tells whether an older page exists.
    ``count``/``num_pages`` still work (exact, computed only when asked)."""

    def get_page(self, number: Any) -> Page:
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            # Past the end (a stale or hand-made link): the last page, which
            # needs the count; rare.
            return super().get_page(number)
        return StatementPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


def statement_page(*, account: Account, page: int | str = 1, per_page: int = 25) -> Page:
    """Newest first; uses the (account, -id) index and never counts the
    account's postings. A bad page number gives the first page, one past
    the end the last."""
    paginator = StatementPaginator(statement_queryset(account=account), per_page)
    return paginator.get_page(page)


LIMIT_PER_CHECK = 100

# Checks of apps above the ledger (``funding``: nothing rests in supporter
# accounts once an after-mode run is settled), registered from their app
# config; each returns problem lines like ``ledger_problems``.
_extra_checks: list[Callable[[], list[str]]] = []


def problems_check_register(check: Callable[[], list[str]]) -> None:
    if check not in _extra_checks:
        _extra_checks.append(check)


def ledger_problems() -> list[str]:
    """Every ledger invariant checked over the whole ledger, set-based.

    Each check is one pass (one GROUP BY or one scan), so it stays fast on
    millions of postings. Returns one human-readable line per problem (at most
    ``LIMIT_PER_CHECK`` per check, then a line saying more were left out); an
    empty list means the ledger is healthy.
    """
    checks: list[tuple[str, list[Any], Callable[[tuple], str]]] = [
        (
            # Zero-sum and at least two postings (transactions without any
            # posting show up through the LEFT JOIN).
            """
            SELECT t.id, coalesce(s.total, 0), coalesce(s.n, 0)
              FROM ledger_transaction t
              LEFT JOIN (SELECT transaction_id, sum(amount) AS total, count(*) AS n
                           FROM ledger_posting GROUP BY transaction_id) s
                ON s.transaction_id = t.id
             WHERE s.transaction_id IS NULL OR s.total <> 0 OR s.n < 2
             ORDER BY t.id
             LIMIT %s
            """,
            [],
            lambda r: f"transaction {r[0]} is unbalanced: {r[2]} posting(s) sum to {r[1]}",
        ),
        (
            """
            SELECT a.id, a.kind, a.balance, coalesce(s.total, 0)
              FROM ledger_account a
              LEFT JOIN (SELECT account_id, sum(amount) AS total
                           FROM ledger_posting GROUP BY account_id) s ON s.account_id = a.id
             WHERE a.balance <> coalesce(s.total, 0)
             ORDER BY a.id
             LIMIT %s
            """,
            [],
            lambda r: (
                f"account {r[0]} ({r[1]}) stores balance {r[2]} but its postings sum to {r[3]}"
            ),
        ),
        (
            "SELECT id, kind, balance FROM ledger_account"
            " WHERE kind = ANY(%s) AND balance < 0 ORDER BY id LIMIT %s",
            [[str(k) for k in NON_NEGATIVE_KINDS]],
            lambda r: f"account {r[0]} ({r[1]}) is negative: {r[2]}",
        ),
        (
            "SELECT id, balance FROM ledger_account"
            " WHERE kind = %s AND balance > 0 ORDER BY id LIMIT %s",
            [str(AccountKind.RECEIVABLE)],
            lambda r: f"receivable account {r[0]} is in credit: {r[1]}",
        ),
        (
            # Follows from zero-sum transactions; catches rows that bypassed
            # the triggers.
            "SELECT sum(balance) FROM ledger_account HAVING sum(balance) <> 0 LIMIT %s",
            [],
            lambda r: f"balances of all accounts sum to {r[0]}, not 0",
        ),
    ]
    problems: list[str] = []
    with connection.cursor() as cursor:
        for sql, params, describe in checks:
            cursor.execute(sql, [*params, LIMIT_PER_CHECK + 1])
            rows = cursor.fetchall()
            problems.extend(describe(row) for row in rows[:LIMIT_PER_CHECK])
            if len(rows) > LIMIT_PER_CHECK:
                problems.append("... more problems of the kind above were left out")
    for check in _extra_checks:
        problems.extend(check())
    return problems


def ledger_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM ledger_account), (SELECT count(*) FROM ledger_transaction),"
            " (SELECT count(*) FROM ledger_posting)"
        )
        accounts, transactions, postings = cursor.fetchone()
    return {"accounts": accounts, "transactions": transactions, "postings": postings}


def flattr_means(*, user: User) -> tuple[int, int]:
    """(cents owed after a refund or dispute, wallet balance): what a flattr
    checks, in one query (buttons.services.flattr_create)."""
    balances = dict(
        Account.objects.filter(
            user=user, kind__in=[AccountKind.RECEIVABLE, AccountKind.WALLET]
        ).values_list("kind", "balance")
    )
    return -balances.get(AccountKind.RECEIVABLE, 0), balances.get(AccountKind.WALLET, 0)


def flattr_means_sql(*, user: str) -> str:
    """``flattr_means`` as a SELECT of one row (owed, balance) for a
    caller's own statement (the flattr writes its rows in one round trip):
    ``user`` is the SQL (a placeholder) that gives the user's id."""
    receivable, wallet = AccountKind.RECEIVABLE.value, AccountKind.WALLET.value
    return (
        f"SELECT COALESCE(-SUM(balance) FILTER (WHERE kind = '{receivable}'), 0) AS owed,"  # noqa: S608 - our names
        f" COALESCE(SUM(balance) FILTER (WHERE kind = '{wallet}'), 0) AS balance"
        f" FROM {Account._meta.db_table}"
        f" WHERE user_id = {user} AND kind IN ('{receivable}', '{wallet}')"
    )
