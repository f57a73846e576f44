"""The truth of money: accounts, transactions and postings (double entry).

Sign convention: an account's balance is the sum of its postings. A wallet
holding 8 EUR has balance 800; the outside world goes negative as money comes
in. Every transaction's postings sum to zero.

The database enforces the rules (see migration 0002): postings of a
transaction sum to zero (deferred constraint trigger), postings and
transactions are insert-only, stored balances follow the postings (statement
trigger) and never go below zero for wallets, earnings and holdings.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import staff_field
from core.constraints import choice_constraint, first_of_month_constraint


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Supporter wallet")
    EARNINGS = "earnings", _("Creator earnings")
    # What a supporter owes after a refund or dispute took more than the
    # wallet held. Its balance is zero or negative (negative = owed to us).
    RECEIVABLE = "receivable", _("Supporter receivable")
    PENDING_WITHDRAWAL = "pending_withdrawal", _("Pending withdrawal")
    PLATFORM_FEES = "platform_fees", _("Platform fees")
    PROCESSOR_FEES = "processor_fees", _("Processor fees")
    OUTSIDE = "outside", _("Outside world")
    UNCLAIMED = "unclaimed", _("Unclaimed holding")
    CHARITY = "charity", _("Charity")
    # Passes a monthly run's money from supporters to creators; back to zero
    # once the run is posted.
    PAYOUT_CLEARING = "payout_clearing", _("Payout clearing")


# Kinds whose balance may never go below zero (checked by the database).
NON_NEGATIVE_KINDS = (
    AccountKind.WALLET,
    AccountKind.EARNINGS,
    AccountKind.PENDING_WITHDRAWAL,
    AccountKind.UNCLAIMED,
    AccountKind.CHARITY,
    AccountKind.PLATFORM_FEES,
)
USER_KINDS = (
    AccountKind.WALLET,
    AccountKind.EARNINGS,
    AccountKind.RECEIVABLE,
    AccountKind.PENDING_WITHDRAWAL,
)


class Account(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
        verbose_name=_("user"),
    )
    # Distinguishes platform accounts of one kind, e.g. "thing:42" for the
    # unclaimed holding of one thing. Empty for user accounts.
    ref = models.CharField(_("reference"), max_length=100, blank=True, default="")
    # Cents; maintained by the database from postings, never written by Python.
    balance = models.BigIntegerField(_("balance"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        permissions = [("adjust_wallet", "Can adjust a wallet balance (staff correction)")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "user"],
                condition=models.Q(user__isnull=False),
                name="one_account_per_user_and_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "ref"],
                condition=models.Q(user__isnull=True),
                name="one_platform_account_per_kind_and_ref",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=NON_NEGATIVE_KINDS) | models.Q(balance__gte=0),
                name="balance_never_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=AccountKind.RECEIVABLE) | models.Q(balance__lte=0),
                name="receivable_is_owed_never_credit",
            ),
            choice_constraint("kind", AccountKind, "account_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(kind__in=USER_KINDS, user__isnull=False)
                | (~models.Q(kind__in=USER_KINDS) & models.Q(user__isnull=True)),
                name="user_accounts_have_user",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user.email if self.user is not None else (self.ref or "platform")
        return f"{self.get_kind_display()} ({owner})"


class TransactionKind(models.TextChoices):
    TOPUP = "topup", _("Top-up")
    TOPUP_REVERSAL = "topup_reversal", _("Refund or dispute")
    RECEIVABLE_SETTLEMENT = "receivable_settlement", _("Receivable settled")
    ADJUSTMENT = "adjustment", _("Staff adjustment")
    PAYOUT = "payout", _("Monthly payout")
    UNCLAIMED_RETURN = "unclaimed_return", _("Unclaimed returned")
    UNCLAIMED_CLAIM = "unclaimed_claim", _("Unclaimed claimed")
    WITHDRAWAL = "withdrawal", _("Withdrawal requested")
    WITHDRAWAL_PAID = "withdrawal_paid", _("Withdrawal paid")
    WITHDRAWAL_RETURNED = "withdrawal_returned", _("Withdrawal returned")
    # The exact negation of an earlier transaction (transaction_reverse).
    REVERSAL = "reversal", _("Reversal")


class Transaction(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=TransactionKind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    # A typed reference to what the transaction belongs to (see
    # ``ledger.services.Reference``): the model's label, its id and the month,
    # e.g. ("payouts.payoutrun", 7, 2026-09-01), so readers filter on columns
    # instead of parsing idempotency keys.
    source = models.CharField(_("source"), max_length=64, blank=True, default="", db_default="")
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    period = models.DateField(
        _("period"), null=True, blank=True, help_text=_("First day of the month.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    created_by = staff_field(
        _("created by"), help_text=_("The staff member, for manual transactions.")
    )

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints = [
            choice_constraint("kind", TransactionKind, "transaction_kind_valid"),
            first_of_month_constraint("period", "transaction_period_is_first_of_month", null=True),
        ]
        indexes = [
            models.Index(
                fields=["source", "source_id"],
                name="transaction_source",
                condition=~models.Q(source=""),
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.idempotency_key}"


class Posting(models.Model):
    # Both references are checked by the database once per statement, over
    # all the statement's postings (ledger migration 0011), not by a
    # foreign-key trigger per posting; transactions and used accounts can
    # never be deleted, nor an account's id changed.
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("transaction"),
        db_constraint=False,
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("account"),
        db_constraint=False,
        # posting_account_newest below starts with the account: a second
        # index of it alone would only slow every posting down.
        db_index=False,
    )
    # Signed cents: positive raises the account's balance.
    amount = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        indexes = [
            # Statements: newest first per account.
            models.Index(fields=["account", "-id"], name="posting_account_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="posting_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} on {self.account_id}"
