"""Money out: connected payout accounts and withdrawals of earnings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import staff_field
from core.constraints import choice_constraint
from core.money import format_cents


class PayoutAccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ENABLED = "enabled", _("Enabled")
    RESTRICTED = "restricted", _("Restricted")


class PayoutAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payout_account",
        verbose_name=_("user"),
    )
    stripe_account_id = models.CharField(
        _("stripe account id"), max_length=255, null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PayoutAccountStatus.choices,
        default=PayoutAccountStatus.PENDING,
    )
    test_mode = models.BooleanField(_("test mode"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        constraints = [
            choice_constraint("status", PayoutAccountStatus, "payout_account_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.status})"


class WithdrawalStatus(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    PROCESSING = "processing", _("Processing")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REVERSED = "reversed", _("Reversed")
    REJECTED = "rejected", _("Rejected")
    # A wallet refund whose every reserved cent went into chargebacks of the
    # charges it was to refund: nothing left to refund.
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = [WithdrawalStatus.AWAITING_REVIEW, WithdrawalStatus.PROCESSING]


class WithdrawalKind(models.TextChoices):
    # A creator's earnings, transferred to their connected account.
    EARNINGS = "earnings", _("Earnings")
    # What was left in the wallet of a deleted account, refunded to the
    # cards of its top-ups (see payments/withdrawals/wallet_refunds.py).
    WALLET_REFUND = "wallet_refund", _("Wallet refund")


class Withdrawal(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="withdrawals",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=WithdrawalKind.choices, default=WithdrawalKind.EARNINGS
    )
    # Cents moved out of earnings (or, for a wallet refund, out of the wallet).
    amount_cents = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=16, choices=WithdrawalStatus.choices)
    stripe_transfer_id = models.CharField(
        _("stripe transfer id"), max_length=255, null=True, blank=True, unique=True
    )
    # A wallet refund's plan, fixed when it is requested: one entry per
    # top-up charge, {"topup_id", "amount_cents" (cents), "refund_id"
    # (the processor's, once refunded), "error" (why it was declined)}.
    refunds = models.JSONField(_("refunds"), default=list, blank=True)
    reviewed_by = staff_field(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.CharField(
        _("reason"),
        max_length=500,
        blank=True,
        help_text=_("Why it was rejected, failed or reversed."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="withdrawal_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="withdrawal_amount_positive"
            ),
            choice_constraint("status", WithdrawalStatus, "withdrawal_status_valid"),
            choice_constraint("kind", WithdrawalKind, "withdrawal_kind_valid"),
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_withdrawal_per_user_and_kind",
            ),
        ]

    def __str__(self) -> str:
        # Shown by the admin (titles, breadcrumbs, links): euros, not cents.
        return f"#{self.pk} {self.get_kind_display()} ({format_cents(self.amount_cents)}, {self.get_status_display()})"

    @property
    def is_wallet_refund(self) -> bool:
        return self.kind == WithdrawalKind.WALLET_REFUND

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
