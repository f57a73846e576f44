"""The ledger postings of withdrawals and wallet refunds, each made once
under the key ``withdrawal:<id>:<step>``:

request   earnings or wallet -> pending_withdrawal
paid      pending_withdrawal -> outside
returned  pending_withdrawal or outside -> earnings or wallet
"""

from __future__ import annotations

from accounts.models import User
from ledger import services as ledger
from ledger.models import Account, AccountKind
from payments.withdrawals.models import Withdrawal


def pending_account(user: User) -> Account:
    return ledger.account_get(kind=AccountKind.PENDING_WITHDRAWAL, user=user)


def _post(
    withdrawal: Withdrawal,
    step: str,
    *,
    kind: str,
    source: Account,
    target: Account,
    cents: int,
    memo: str,
    reference: ledger.Reference | None,
) -> None:
    ledger.transaction_post(
        kind=kind,
        idempotency_key=f"withdrawal:{withdrawal.pk}:{step}",
        legs=[(source, -cents), (target, cents)],
        memo=memo,
        reference=reference,
    )


def withdrawal_post_request(
    *,
    withdrawal: Withdrawal,
    source: Account,
    memo: str,
    reference: ledger.Reference | None = None,
) -> None:
    """The withdrawal's amount leaves ``source`` for the pending account."""
    _post(
        withdrawal,
        "request",
        kind="withdrawal",
        source=source,
        target=pending_account(withdrawal.user),
        cents=withdrawal.amount_cents,
        memo=memo,
        reference=reference,
    )


def withdrawal_post_paid(
    *,
    withdrawal: Withdrawal,
    cents: int,
    memo: str,
    reference: ledger.Reference | None = None,
) -> None:
    """``cents`` of the pending account went out (transferred or refunded)."""
    _post(
        withdrawal,
        "paid",
        kind="withdrawal_paid",
        source=pending_account(withdrawal.user),
        target=ledger.platform_account(kind=AccountKind.OUTSIDE),
        cents=cents,
        memo=memo,
        reference=reference,
    )


def withdrawal_post_returned(
    *,
    withdrawal: Withdrawal,
    source: Account,
    target: Account,
    cents: int,
    memo: str,
    step: str = "returned",
    reference: ledger.Reference | None = None,
) -> None:
    """``cents`` come back from ``source`` (pending, or outside after a
    reversal) to ``target`` (earnings or wallet)."""
    _post(
        withdrawal,
        step,
        kind="withdrawal_returned",
        source=source,
        target=target,
        cents=cents,
        memo=memo,
        reference=reference,
    )
