"""Writes to the ledger. Every money movement in the platform goes through
``transaction_post``; the only other writer is the monthly payout, which
inserts its postings set-based in SQL (``payouts/services/post.py``) under
the same database rules."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection
from django.db import transaction as db_transaction

from ledger.models import USER_KINDS, Account, AccountKind, Posting, Transaction, TransactionKind


class LedgerError(Exception):
    """A ledger rule refused the operation; nothing was written."""


class InsufficientFunds(LedgerError):
    """The transaction would drive a wallet, earnings or holding below zero."""


class UnbalancedTransaction(LedgerError):
    pass


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: int  # signed cents


def account_get(*, kind: str, user=None, ref: str = "") -> Account:
    """The account of ``kind`` for ``user`` (or the platform account ``ref``),
    created on first use."""
    if kind in USER_KINDS:
        if user is None:
            raise ValueError(f"{kind} accounts belong to a user")
        account = Account.objects.filter(kind=kind, user=user).first()
        if account is not None:
            return account
        # ON CONFLICT DO NOTHING: two first uses at once create one account.
        Account.objects.bulk_create([Account(kind=kind, user=user)], ignore_conflicts=True)
        return Account.objects.get(kind=kind, user=user)
    account = Account.objects.filter(kind=kind, user__isnull=True, ref=ref).first()
    if account is not None:
        return account
    Account.objects.bulk_create([Account(kind=kind, ref=ref)], ignore_conflicts=True)
    return Account.objects.get(kind=kind, user__isnull=True, ref=ref)


def wallet_account(*, user) -> Account:
    return account_get(kind=AccountKind.WALLET, user=user)


def earnings_account(*, user) -> Account:
    return account_get(kind=AccountKind.EARNINGS, user=user)


def platform_account(*, kind: str, ref: str = "") -> Account:
    return account_get(kind=kind, ref=ref)


def transaction_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: Iterable[Leg | tuple[Account, int]],
    memo: str = "",
    created_by=None,
) -> tuple[Transaction, bool]:
    """Post a balanced transaction once per ``idempotency_key``.

    Returns ``(transaction, created)``. Posting the same key again returns the
    first transaction and writes nothing, even when two callers race: the
    second waits on the unique key and then finds the first one's row.
    Raises InsufficientFunds (nothing written) when a balance would go below
    zero.
    """
    if kind not in TransactionKind.values:
        raise ValueError(f"unknown transaction kind {kind!r}; add it to TransactionKind")
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for leg in legs:
        account, amount = (leg.account, leg.amount) if isinstance(leg, Leg) else leg
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("ledger amounts are integer cents")
        merged[account.pk] += amount
        accounts[account.pk] = account
    merged = {pk: amount for pk, amount in merged.items() if amount != 0}
    if sum(merged.values()) != 0:
        raise UnbalancedTransaction(f"legs sum to {sum(merged.values())}, not 0")
    if len(merged) < 2:
        raise UnbalancedTransaction("a transaction moves money between at least two accounts")

    try:
        with db_transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO ledger_transaction
                        (kind, idempotency_key, memo, created_at, created_by_id)
                    VALUES (%s, %s, %s, now(), %s)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING id
                    """,
                    [kind, idempotency_key, memo[:500], getattr(created_by, "pk", created_by)],
                )
                row = cursor.fetchone()
            if row is None:
                return Transaction.objects.get(idempotency_key=idempotency_key), False
            # Lock in id order so concurrent posts never deadlock.
            list(
                Account.objects.select_for_update()
                .filter(pk__in=sorted(merged))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Posting.objects.bulk_create(
                [
                    Posting(transaction_id=row[0], account_id=pk, amount=amount)
                    for pk, amount in sorted(merged.items())
                ]
            )
    except IntegrityError as exc:
        cause = getattr(exc, "__cause__", None)
        constraint = getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
        if "balance_never_negative" in constraint or "balance_never_negative" in str(exc):
            raise InsufficientFunds(str(exc).splitlines()[0]) from exc
        raise
    txn = Transaction.objects.get(pk=row[0])
    return txn, True


class AdjustmentRefused(LedgerError, ValueError):
    """A staff adjustment was refused for bad input (no reason, zero amount,
    not staff); nothing was written."""


# Staff corrections are posted against this platform account: money the
# platform gives (credit) or takes back (debit) from outside the normal flows.
# It is an ``outside`` account so it may go negative, and its own ref keeps
# corrections apart from real money arriving through the processor.
ADJUSTMENTS_REF = "adjustments"


@db_transaction.atomic
def transaction_reverse(
    *,
    transaction: Transaction,
    idempotency_key: str,
    memo: str = "",
    created_by=None,
    kind: str = TransactionKind.REVERSAL,
) -> tuple[Transaction, bool]:
    """Post the exact negation of ``transaction``'s postings.

    A correction is a new transaction; ledger rows are never changed. Like
    ``transaction_post`` it is idempotent on ``idempotency_key`` and raises
    InsufficientFunds (nothing written) when a balance would go negative,
    e.g. a top-up whose money was already spent.
    """
    legs = [
        (posting.account, -posting.amount)
        for posting in transaction.postings.select_related("account").order_by("pk")
    ]
    return transaction_post(
        kind=kind,
        idempotency_key=idempotency_key,
        legs=legs,
        memo=memo or f"Reversal of #{transaction.pk}",
        created_by=created_by,
    )


@db_transaction.atomic(durable=True)
def wallet_adjust(
    *,
    user,
    amount_cents: int,
    reason: str,
    staff,
    idempotency_key: str | None = None,
) -> Transaction:
    """A staff correction of ``user``'s wallet: ``amount_cents`` > 0 credits
    it, < 0 debits it, posted as an ordinary ``adjustment`` transaction
    against the ``outside``/``adjustments`` platform account with the staff
    member in ``created_by`` and the reason in the memo.

    Refused with InsufficientFunds (nothing written) when the wallet would go
    below zero, with AdjustmentRefused for a blank reason, a zero amount or a
    caller who is not staff. ``idempotency_key`` makes a double-submitted
    admin form post once: the form generates one key per render and passes it
    back; the same key again returns the first transaction.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentRefused("a reason is required")
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise TypeError("amount_cents is integer cents")
    if amount_cents == 0:
        raise AdjustmentRefused("the amount must not be zero")
    if staff is None or not getattr(staff, "is_staff", False):
        raise AdjustmentRefused("only staff can adjust wallets")
    wallet = wallet_account(user=user)
    counter = platform_account(kind=AccountKind.OUTSIDE, ref=ADJUSTMENTS_REF)
    txn, _created = transaction_post(
        kind=TransactionKind.ADJUSTMENT,
        idempotency_key=idempotency_key or f"adjustment:{uuid.uuid4()}",
        legs=[(wallet, amount_cents), (counter, -amount_cents)],
        memo=f"{reason} (by {staff.email})",
        created_by=staff,
    )
    return txn
