"""Top-ups (money in) and the record of every Stripe event received."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.constraints import choice_constraint


class TopUpStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # Not paid within 24 hours (the beat task ``topup_expire_pending``).
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# A pending top-up nobody paid within this long expires (Stripe Checkout
# sessions also expire after 24 hours).
PENDING_TOPUP_LIFETIME = dt.timedelta(hours=24)


class Gateway(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    TEST = "test", _("Test mode (no real money)")


class TopUp(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="topups",
        verbose_name=_("user"),
    )
    # Cents the supporter pays (gross), before the processor's fee.
    amount_cents = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="eur")
    # Cents the processor kept; known once the payment succeeded.
    fee_cents = models.BigIntegerField(_("fee"), null=True, blank=True)
    # Cents refunded or disputed so far (cumulative).
    reversed_cents = models.BigIntegerField(_("reversed"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=TopUpStatus.choices, default=TopUpStatus.PENDING
    )
    gateway = models.CharField(_("gateway"), max_length=16, choices=Gateway.choices)
    checkout_session_id = models.CharField(
        _("checkout session id"), max_length=255, null=True, blank=True, unique=True
    )
    payment_intent_id = models.CharField(
        _("payment intent id"), max_length=255, null=True, blank=True, db_index=True
    )
    charge_id = models.CharField(
        _("charge id"), max_length=255, null=True, blank=True, db_index=True
    )
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status", "-created_at"], name="topup_user_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="topup_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(fee_cents__isnull=True)
                | (models.Q(fee_cents__gte=0) & models.Q(fee_cents__lt=models.F("amount_cents"))),
                name="topup_fee_below_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(reversed_cents__gte=0)
                & models.Q(reversed_cents__lte=models.F("amount_cents")),
                name="topup_reversed_within_amount",
            ),
            choice_constraint("status", TopUpStatus, "topup_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Top-up #{self.pk} ({self.amount_cents} cents, {self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == TopUpStatus.PENDING

    @property
    def is_succeeded(self) -> bool:
        return self.status == TopUpStatus.SUCCEEDED

    @property
    def net_cents(self) -> int | None:
        return None if self.fee_cents is None else self.amount_cents - self.fee_cents


class WebhookResult(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (unknown type)")
    REFUSED = "refused", _("Refused")
    MALFORMED = "malformed", _("Malformed (answered 400)")


class WebhookEvent(models.Model):
    """Each Stripe event id is processed at most once; every signed event
    received is kept with its payload, for audit."""

    Result = WebhookResult

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    result = models.CharField(
        _("result"), max_length=16, choices=Result.choices, default=Result.PROCESSED
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    # The signed body exactly as Stripe sent it (events before 0002: empty).
    payload = models.TextField(_("payload"), blank=True, default="")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        constraints = [
            choice_constraint("result", WebhookResult, "webhookevent_result_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.result})"
