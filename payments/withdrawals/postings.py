"""The ledger postings of withdrawals and wallet refunds: each moves cents
from one account to another once, under the key ``withdrawal:<id>:<step>``."""

from __future__ import annotations

from accounts.models import User
from ledger import services as ledger
from ledger.models import Account, AccountKind
from payments.withdrawals.models import Withdrawal


def pending_account(user: User) -> Account:
    return ledger.account_get(kind=AccountKind.PENDING_WITHDRAWAL, user=user)


def withdrawal_post(
    *,
    withdrawal: Withdrawal,
    step: str,
    kind: str,
    source: Account,
    target: Account,
    cents: int,
    memo: str,
    reference: ledger.Reference | None = None,
) -> None:
    """Move ``cents`` from ``source`` to ``target`` for ``withdrawal``'s
    ``step``; posting the same step again writes nothing."""
    ledger.transaction_post(
        kind=kind,
        idempotency_key=f"withdrawal:{withdrawal.pk}:{step}",
        legs=[(source, -cents), (target, cents)],
        memo=memo,
        reference=reference,
    )
