"""Reads for the wallet page (pending top-ups, statement lines) and the saved
way to pay."""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from ledger.models import Transaction, TransactionKind
from payments.models import (
    PENDING_TOPUP_LIFETIME,
    PaymentMethod,
    PaymentMethodStatus,
    TopUp,
    TopUpStatus,
)


def topups_pending(*, user: User, limit: int = 10) -> list[TopUp]:
    """The supporter's pending top-ups still payable (younger than a day; the
    beat task marks older ones expired)."""
    return list(
        TopUp.objects.filter(
            user=user,
            status=TopUpStatus.PENDING,
            created_at__gte=timezone.now() - PENDING_TOPUP_LIFETIME,
        )[:limit]
    )


# Adjustments posted before the memo held only the reason ended with the
# staff member's e-mail; a supporter's statement never shows it.
_STAFF_SUFFIX = re.compile(r"\s*\(by [^()\s]+@[^()\s]+\)$")


def _memo(transaction: Transaction) -> str:
    if transaction.kind == TransactionKind.PAYOUT and transaction.period:
        # The stored memo ("Payout 2026-10") is English for the ledger's
        # readers; beside the kind's translated name, the month is enough.
        return date_format(transaction.period, "YEAR_MONTH_FORMAT")
    if transaction.kind == TransactionKind.ADJUSTMENT:
        return _STAFF_SUFFIX.sub("", transaction.memo)
    return transaction.memo


def statement_lines(*, postings: list) -> list[dict]:
    """Statement rows for wallet postings, with the top-up's gross and fee
    where a posting comes from a top-up (one query for the page)."""
    topup_ids = {}
    for posting in postings:
        key = posting.transaction.idempotency_key
        if posting.transaction.kind == "topup" and key.startswith("topup:"):
            topup_ids[posting.pk] = int(key.split(":")[1])
    topups = TopUp.objects.in_bulk(set(topup_ids.values()))
    lines = []
    for posting in postings:
        topup = topups.get(topup_ids.get(posting.pk))
        lines.append(
            {
                "date": posting.transaction.created_at,
                "kind": posting.transaction.get_kind_display(),
                # A top-up's memo ("Top-up #4") repeats the kind: its number
                # is enough beside the kind's (translated) name.
                "memo": f"#{topup.pk}" if topup else _memo(posting.transaction),
                "amount": posting.amount,
                "gross": topup.amount_cents if topup else None,
                "fee": topup.fee_cents if topup else None,
            }
        )
    return lines


def payment_method_active(*, user: User) -> PaymentMethod | None:
    """The supporter's way to pay for after-mode charges, if saved; one that
    needs replacing (expired, refused) is returned too: check ``status``."""
    return (
        PaymentMethod.objects.filter(user=user)
        .exclude(status=PaymentMethodStatus.REMOVED)
        .order_by("-pk")
        .first()
    )
