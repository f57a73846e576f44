"""Writes to the ledger. Every money movement in the platform goes through
``transaction_post`` (one transaction) or ``transactions_post_many`` (many,
in bulk: the monthly payout); no other code writes ``ledger_*`` tables.
The database enforces every rule either way (migrations 0002 and 0007)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, connection
from django.db import models as db_models
from django.db import transaction as db_transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

from accounts.models import User
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


@dataclass(frozen=True)
class Reference:
    """What a transaction belongs to: a model's label (``app.model``), its
    id and the month it is about. Stored in typed columns, so readers never
    parse idempotency keys."""

    source: str
    object_id: int | None = None
    period: dt.date | None = None

    @classmethod
    def of(cls, obj: db_models.Model, *, period: dt.date | None = None) -> Reference:
        return cls(source=obj._meta.label_lower, object_id=obj.pk, period=period)


@dataclass(frozen=True)
class NewTransaction:
    """One transaction for ``transactions_post_many``: legs are
    ``(account id, signed cents)``; legs on one account are merged."""

    kind: TransactionKind
    idempotency_key: str
    legs: Sequence[tuple[int, int]]
    memo: str = ""
    reference: Reference | None = None
    created_by_id: int | None = None
    merged: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in TransactionKind.values:
            raise ValueError(f"unknown transaction kind {self.kind!r}; add it to TransactionKind")
        object.__setattr__(self, "merged", _merge_legs(self.legs))


def _merge_legs(legs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Legs per account id, zero legs dropped; refuses non-integer amounts
    and legs that do not balance across at least two accounts."""
    merged: dict[int, int] = defaultdict(int)
    for account_id, amount in legs:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("ledger amounts are integer cents")
        merged[account_id] += amount
    result = {pk: amount for pk, amount in merged.items() if amount != 0}
    if sum(result.values()) != 0:
        raise UnbalancedTransaction(f"legs sum to {sum(result.values())}, not 0")
    if len(result) < 2:
        raise UnbalancedTransaction("a transaction moves money between at least two accounts")
    return result


def _raise_ledger_error(exc: IntegrityError) -> None:
    cause = getattr(exc, "__cause__", None)
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
    if "balance_never_negative" in constraint or "balance_never_negative" in str(exc):
        raise InsufficientFunds(str(exc).splitlines()[0]) from exc


def account_get(*, kind: str, user: User | None = None, ref: str = "") -> Account:
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


def wallet_account(*, user: User) -> Account:
    return account_get(kind=AccountKind.WALLET, user=user)


def earnings_account(*, user: User) -> Account:
    return account_get(kind=AccountKind.EARNINGS, user=user)


def platform_account(*, kind: str, ref: str = "") -> Account:
    return account_get(kind=kind, ref=ref)


def transaction_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: Iterable[Leg | tuple[Account, int]],
    memo: str = "",
    created_by: User | None = None,
    reference: Reference | None = None,
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
    merged = _merge_legs(
        (leg.account.pk, leg.amount) if isinstance(leg, Leg) else (leg[0].pk, leg[1])
        for leg in legs
    )
    ref = reference or Reference(source="")

    try:
        with db_transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO ledger_transaction
                        (kind, idempotency_key, memo, created_at, created_by_id,
                         source, source_id, period)
                    VALUES (%s, %s, %s, now(), %s, %s, %s, %s)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING id
                    """,
                    [
                        kind,
                        idempotency_key,
                        memo[:500],
                        created_by.pk if created_by else None,
                        ref.source,
                        ref.object_id,
                        ref.period,
                    ],
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
        _raise_ledger_error(exc)
        raise
    txn = Transaction.objects.get(pk=row[0])
    return txn, True


def transactions_post_many(*, transactions: Iterable[NewTransaction]) -> int:
    """Post many balanced transactions at once; each idempotency key once.

    The rows travel by COPY into temporary tables, then three statements
    lock the accounts (in id order), insert the transactions whose keys are
    new (``ON CONFLICT DO NOTHING``) and insert their postings: the
    database checks every rule on that one statement (zero sum, sealing,
    balances never negative). Returns how many transactions were created;
    keys posted before are skipped, so a retried chunk posts nothing twice.
    Raises InsufficientFunds or UnbalancedTransaction with nothing written
    (the caller's database transaction is then rolled back: run it inside
    the transaction whose work it commits with).
    """
    items = list(transactions)
    if not items:
        return 0
    keys = [item.idempotency_key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("idempotency keys repeat within one call")
    with _staged() as cursor:
        raw = cursor.cursor
        with raw.copy("COPY ledger_new_transaction FROM STDIN") as copy:
            for item in items:
                copy.write_row(_transaction_row(item))
        with raw.copy("COPY ledger_new_leg FROM STDIN") as copy:
            for item in items:
                for account_id, amount in item.merged.items():
                    copy.write_row((item.idempotency_key, account_id, amount))
        return _post_staged(cursor)


@dataclass(frozen=True)
class UserLegs:
    """Legs on the ``kind`` accounts of many users: ``rows`` is a
    ``values_list`` of ``(user id, signed cents)`` that the database reads
    itself (a payout chunk's 50,000 legs never travel through Python)."""

    kind: AccountKind
    rows: QuerySet[Any, tuple[int, int]]


def transaction_post_for_users(
    *,
    kind: TransactionKind,
    idempotency_key: str,
    user_legs: UserLegs,
    balance_account_id: int,
    memo: str = "",
    reference: Reference | None = None,
) -> int:
    """Post one transaction: a leg on each user's account of
    ``user_legs.kind`` (created on first use; legs of one user merged) and
    the leg that balances them on ``balance_account_id``. Returns 1 if
    posted, 0 if its key was posted before or the legs are all zero
    (nothing written). Same rules, refusals and transaction handling as
    ``transactions_post_many``."""
    if kind not in TransactionKind.values:
        raise ValueError(f"unknown transaction kind {kind!r}; add it to TransactionKind")
    if user_legs.kind not in USER_KINDS:
        raise ValueError(f"{user_legs.kind} accounts do not belong to users")
    query = user_legs.rows.query
    rows_sql, rows_params = query.get_compiler(using=user_legs.rows.db).as_sql()
    ref = reference or Reference(source="")
    with _staged() as cursor:
        legs = f"SELECT * FROM ({rows_sql}) AS rows (user_id, amount)"  # noqa: S608 - a queryset's
        cursor.execute(f"CREATE TEMP TABLE ledger_user_leg ON COMMIT DROP AS {legs}", rows_params)
        _user_accounts(cursor, user_legs.kind)
        cursor.execute(
            "INSERT INTO ledger_new_transaction VALUES (%s, %s, %s, %s, %s, %s, NULL)",
            [idempotency_key, str(kind), memo[:500], ref.source, ref.object_id, ref.period],
        )
        # The user legs and the balancing leg, merged per account (the
        # balancing account may be one of the users').
        cursor.execute(
            """
            INSERT INTO ledger_new_leg (idempotency_key, account_id, amount)
            SELECT %(key)s, account_id, sum(amount)
              FROM (SELECT a.id AS account_id, l.amount
                      FROM ledger_user_leg l JOIN ledger_user_account a USING (user_id)
                    UNION ALL
                    SELECT %(balance)s, -sum(amount) FROM ledger_user_leg
                   ) legs
             GROUP BY account_id
            HAVING sum(amount) <> 0
            """,
            {"key": idempotency_key, "balance": balance_account_id},
        )
        if cursor.rowcount == 0:
            return 0
        return _post_staged(cursor)


def _user_accounts(cursor: CursorWrapper, kind: AccountKind) -> None:
    """``ledger_user_account``: the ``kind`` account of every user of
    ``ledger_user_leg``, created where missing. One array probe of the
    accounts' unique index, never a scan of every account."""
    cursor.execute(
        "CREATE TEMP TABLE ledger_user_account ON COMMIT DROP AS SELECT user_id, id"
        " FROM ledger_account WHERE kind = %s"
        " AND user_id = ANY(ARRAY(SELECT DISTINCT user_id FROM ledger_user_leg))",
        [kind],
    )
    missing = "SELECT user_id FROM ledger_user_leg EXCEPT SELECT user_id FROM ledger_user_account"
    cursor.execute(f"SELECT array_agg(user_id) FROM ({missing}) m")  # noqa: S608 - ours
    users = cursor.fetchone()[0]
    if users:
        cursor.execute(
            "INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)"
            " SELECT %s, u, '', 0, now() FROM unnest(%s::bigint[]) u ON CONFLICT DO NOTHING",
            [kind, users],
        )
        cursor.execute(
            "INSERT INTO ledger_user_account SELECT user_id, id FROM ledger_account"
            " WHERE kind = %s AND user_id = ANY(%s::bigint[])",
            [kind, users],
        )


def _transaction_row(item: NewTransaction) -> tuple:
    ref = item.reference or Reference(source="")
    return (
        item.idempotency_key,
        str(item.kind),
        item.memo[:500],
        ref.source,
        ref.object_id,
        ref.period,
        item.created_by_id,
    )


@contextmanager
def _staged() -> Iterator[CursorWrapper]:
    """A cursor with empty staging tables, inside the caller's database
    transaction; a ledger refusal raises InsufficientFunds or IntegrityError."""
    try:
        # No savepoint: rows locked and updated in a subtransaction make the
        # commit-time foreign-key checks create a MultiXact per posting (20x
        # slower). A refusal aborts the caller's transaction instead.
        with (
            db_transaction.atomic(savepoint=False),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "DROP TABLE IF EXISTS ledger_new_transaction, ledger_new_leg,"
                " ledger_user_leg, ledger_user_account"
            )
            cursor.execute(
                "CREATE TEMP TABLE ledger_new_transaction (idempotency_key text, kind text,"
                " memo text, source text, source_id bigint, period date, created_by_id bigint)"
                " ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMP TABLE ledger_new_leg (idempotency_key text, account_id bigint,"
                " amount bigint) ON COMMIT DROP"
            )
            yield cursor
            cursor.execute(
                "DROP TABLE IF EXISTS ledger_new_transaction, ledger_new_leg,"
                " ledger_user_leg, ledger_user_account"
            )
    except IntegrityError as exc:
        _raise_ledger_error(exc)
        raise


def _post_staged(cursor: CursorWrapper) -> int:
    """Lock the staged legs' accounts, insert the staged transactions whose
    keys are new and their postings; how many transactions were created."""
    cursor.execute("ANALYZE ledger_new_transaction, ledger_new_leg")
    # Same lock order as transaction_post: concurrent writers never
    # deadlock on accounts. The ids as one array: probed in order in
    # the primary key, never a scan of every account to join them.
    cursor.execute(
        "SELECT id FROM ledger_account"
        " WHERE id = ANY(ARRAY(SELECT DISTINCT account_id FROM ledger_new_leg))"
        " ORDER BY id FOR UPDATE"
    )
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction
                (kind, idempotency_key, memo, created_at, created_by_id,
                 source, source_id, period)
            SELECT kind, idempotency_key, memo, now(), created_by_id,
                   source, source_id, period
              FROM ledger_new_transaction
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key
        ), postings AS (
            INSERT INTO ledger_posting (transaction_id, account_id, amount)
            SELECT new.id, leg.account_id, leg.amount
              FROM new JOIN ledger_new_leg leg USING (idempotency_key)
        )
        SELECT count(*) FROM new
        """
    )
    return cursor.fetchone()[0]


def accounts_ensure(
    *, kind: AccountKind, user_ids: Iterable[int] = (), refs: Iterable[str] = ()
) -> dict:
    """Account ids of ``kind`` for many users (user kinds) or many platform
    refs, created on first use; ``{user id or ref: account id}``. One
    array lookup; only the missing accounts are inserted."""
    if kind in USER_KINDS:
        wanted: list = sorted(set(user_ids))
        select = (
            "SELECT user_id, id FROM ledger_account WHERE kind = %s AND user_id = ANY(%s::bigint[])"
        )
        insert = (
            "INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)"
            " SELECT %s, u, '', 0, now() FROM unnest(%s::bigint[]) u ON CONFLICT DO NOTHING"
        )
    else:
        wanted = sorted(set(refs))
        select = (
            "SELECT ref, id FROM ledger_account"
            " WHERE kind = %s AND user_id IS NULL AND ref = ANY(%s::text[])"
        )
        insert = (
            "INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)"
            " SELECT %s, NULL, r, 0, now() FROM unnest(%s::text[]) r ON CONFLICT DO NOTHING"
        )
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(select, [str(kind), wanted])
        found = dict(cursor.fetchall())
        missing = [key for key in wanted if key not in found]
        if missing:
            cursor.execute(insert, [str(kind), missing])
            cursor.execute(select, [str(kind), missing])
            found.update(cursor.fetchall())
    return found


def accounts_lock(*, account_ids: Iterable[int]) -> dict[int, int]:
    """Lock accounts in id order for the caller's database transaction and
    return their balances in cents (read-then-write on a balance locks it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, balance FROM ledger_account WHERE id = ANY(%s::bigint[])"
            " ORDER BY id FOR UPDATE",
            [sorted(set(account_ids))],
        )
        return dict(cursor.fetchall())


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
    created_by: User | None = None,
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
    user: User,
    amount_cents: int,
    reason: str,
    staff: User,
    idempotency_key: str | None = None,
) -> Transaction:
    """A staff correction of ``user``'s wallet: ``amount_cents`` > 0 credits
    it, < 0 debits it, posted as an ordinary ``adjustment`` transaction
    against the ``outside``/``adjustments`` platform account with the staff
    member in ``created_by`` and the reason in the memo.

    Refused with InsufficientFunds (nothing written) when the wallet would go
    below zero, with AdjustmentRefused for a blank reason, a zero amount, an
    amount beyond ``FLATTR_MAX_ADJUSTMENT_CENTS`` either way, a balance that
    would overflow, or a caller who is not staff. The memo is the reason
    only: the supporter sees it on their statement, the staff member is in
    ``created_by``. ``idempotency_key`` makes a double-submitted
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
    limit = settings.FLATTR_MAX_ADJUSTMENT_CENTS
    if abs(amount_cents) > limit:
        raise AdjustmentRefused(f"an adjustment is at most {limit / 100:,.2f} either way")
    if staff is None or not getattr(staff, "is_staff", False):
        raise AdjustmentRefused("only staff can adjust wallets")
    wallet = wallet_account(user=user)
    counter = platform_account(kind=AccountKind.OUTSIDE, ref=ADJUSTMENTS_REF)
    try:
        txn, _created = transaction_post(
            kind=TransactionKind.ADJUSTMENT,
            idempotency_key=idempotency_key or f"adjustment:{uuid.uuid4()}",
            legs=[(wallet, amount_cents), (counter, -amount_cents)],
            memo=reason,
            created_by=staff,
        )
    except DataError as exc:
        # A balance past what a bigint holds; the savepoint rolled it back.
        raise AdjustmentRefused("the balance would overflow") from exc
    return txn
