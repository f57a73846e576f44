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
    value = (
        Account.objects.filter(user=user, kind=kind).values_list("balance", flat=True).first()
    )
    return value or 0


def wallet_balance(*, user) -> int:
    return user_balance(user=user, kind=AccountKind.WALLET)


def earnings_balance(*, user) -> int:
    return user_balance(user=user, kind=AccountKind.EARNINGS)


def receivable_owed(*, user) -> int:
    """Cents the user owes after a refund or dispute (0 or positive)."""
    return -user_balance(user=user, kind=AccountKind.RECEIVABLE)


def statement_queryset(*, account: Account) -> QuerySet[Posting]:
    return (
        Posting.objects.filter(account=account)
        .select_related("transaction")
        .order_by("-id")
    )


def statement_page(*, account: Account, page: int = 1, per_page: int = 25) -> Page:
    """Newest first; uses the (account, -id) index."""
    paginator = Paginator(statement_queryset(account=account), per_page)
    return paginator.get_page(page)
