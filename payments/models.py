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


class PaymentMethodKind(models.TextChoices):
    CARD = "card", _("Card")
    SEPA_DEBIT = "sepa_debit", _("SEPA Direct Debit")


class PaymentMethodStatus(models.TextChoices):
    # Usable for off-session charges.
    ACTIVE = "active", _("Active")
    # The processor says it can no longer be charged (expired, detached):
    # charges wait until the supporter saves a new one.
    UNUSABLE = "unusable", _("Needs replacing")
    # Removed by the supporter; kept for the history of past charges.
    REMOVED = "removed", _("Removed")


class PaymentMethod(models.Model):
    """A supporter's saved way to pay (``FLATTR_FUNDING=after``): a card or a
    SEPA Direct Debit mandate saved once through Checkout in setup mode, for
    off-session charges. Never a card number or a full IBAN: the processor's
    ids and what the supporter needs to recognise it. At most one active per
    supporter; replacing one marks the old one removed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payment_methods",
        verbose_name=_("user"),
    )
    gateway = models.CharField(_("gateway"), max_length=16, choices=Gateway.choices)
    # One processor Customer per supporter (``cus_...``), repeated on each row.
    customer_id = models.CharField(_("customer id"), max_length=255)
    # ``pm_...``; test mode uses Stripe's documented test ids (pm_card_visa...).
    payment_method_id = models.CharField(_("payment method id"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=PaymentMethodKind.choices)
    # "visa", "mastercard"...; empty for SEPA.
    brand = models.CharField(_("brand"), max_length=32, blank=True)
    last4 = models.CharField(_("last 4"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"), null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(_("expiry year"), null=True, blank=True)
    # SEPA mandate reference, shown in the pre-notification e-mail.
    mandate_reference = models.CharField(_("mandate reference"), max_length=255, blank=True)
    # The Checkout session (setup mode) that saved it; one method per session.
    setup_session_id = models.CharField(
        _("setup session id"), max_length=255, null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PaymentMethodStatus.choices,
        default=PaymentMethodStatus.ACTIVE,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="active"),
                name="payments_paymentmethod_one_active",
            ),
            choice_constraint("kind", PaymentMethodKind, "paymentmethod_kind_valid"),
            choice_constraint("status", PaymentMethodStatus, "paymentmethod_status_valid"),
            choice_constraint("gateway", Gateway, "paymentmethod_gateway_valid"),
        ]
        indexes = [models.Index(fields=["customer_id"], name="payments_pm_customer")]

    def __str__(self) -> str:
        label = self.brand.title() if self.kind == PaymentMethodKind.CARD else "SEPA"
        return f"{label} •••• {self.last4}"


class SetupStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    COMPLETED = "completed", _("Completed")
    # Not finished within SETUP_LIFETIME (Stripe's session expired too).
    EXPIRED = "expired", _("Expired")


# Stripe Checkout sessions expire after 24 hours; a pending setup is reused
# for less than that, so the page it sends to is still open.
SETUP_LIFETIME = dt.timedelta(hours=23)


class PaymentMethodSetup(models.Model):
    """One start of "Save a card or SEPA mandate": the Checkout session in
    setup mode it opened. Written before the processor is asked (its key is
    ``setup:<id>``), so a second click while it is pending reuses the same
    session, and the return page and the webhook finish it once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payment_method_setups",
        verbose_name=_("user"),
    )
    gateway = models.CharField(_("gateway"), max_length=16, choices=Gateway.choices)
    customer_id = models.CharField(_("customer id"), max_length=255, blank=True)
    session_id = models.CharField(
        _("session id"), max_length=255, null=True, blank=True, unique=True
    )
    url = models.URLField(_("checkout address"), max_length=2000, blank=True)
    # The method the supporter chose on the processor's page, once known.
    payment_method_id = models.CharField(_("payment method id"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SetupStatus.choices, default=SetupStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment method setup")
        verbose_name_plural = _("payment method setups")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="payments_setup_one_pending_per_user",
            ),
            choice_constraint("status", SetupStatus, "paymentmethodsetup_status_valid"),
            choice_constraint("gateway", Gateway, "paymentmethodsetup_gateway_valid"),
        ]

    def __str__(self) -> str:
        return f"Setup #{self.pk} ({self.status})"
