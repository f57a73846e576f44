"""Telling people: events, e-mails, outgoing webhooks and preferences.

A leaf app: it takes events (type, recipient, data) from the others and
knows nothing about them. Each event is stored once (its key is unique),
then e-mailed and sent to webhooks by Celery, each exactly once.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.constraints import choice_constraint


class EventType(models.TextChoices):
    TOPUP_SUCCEEDED = "topup.succeeded", _("Top-up receipt")
    WALLET_LOW = "wallet.low", _("Wallet below your budget")
    SUPPORTER_STATEMENT = "statement.supporter", _("Monthly statement")
    PAYOUT_POSTED = "payout.posted", _("Monthly earnings statement")
    WITHDRAWAL_PAID = "withdrawal.paid", _("Withdrawal paid")
    WITHDRAWAL_FAILED = "withdrawal.failed", _("Withdrawal failed")
    FLATTR_CREATED = "flattr.created", _("New flattr")
    SUBSCRIPTION_CREATED = "subscription.created", _("New subscriber")
    SUBSCRIPTION_SKIPPED = "subscription.skipped", _("Subscription month skipped")
    DIGEST = "digest", _("Digest of new flattrs and subscribers")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled")
    THING_SUBMITTED = "thing.submitted", _("Thing submitted by a supporter")
    LIKES_ACCOUNT_REVOKED = "likes.account_revoked", _("Connected account lost its access")
    # Pay after the month (funding/notices.py).
    CHARGE_SEPA_NOTICE = "charge.sepa_notice", _("Direct Debit advance notice")
    CHARGE_ACTION = "charge.action_required", _("Payment waiting for your confirmation")
    CHARGE_DECLINED = "charge.declined", _("Payment declined")
    CHARGE_GIVEN_UP = "charge.given_up", _("Payment given up")
    CHARGE_NEEDS_METHOD = "charge.needs_method", _("New way to pay needed")
    CHARGE_DISPUTED = "charge.disputed", _("Payment disputed")
    TRANSFER_SENT = "transfer.sent", _("Earnings transferred")
    DISPUTE_RECOVERED = "dispute.recovered", _("Earnings taken back after a dispute")
    TEST = "test", _("Test event")


# Events that are e-mailed one by one; flattrs and subscribers only reach
# people through the digest and webhooks.
EMAIL_TYPES = [
    EventType.TOPUP_SUCCEEDED,
    EventType.WALLET_LOW,
    EventType.SUPPORTER_STATEMENT,
    EventType.PAYOUT_POSTED,
    EventType.WITHDRAWAL_PAID,
    EventType.WITHDRAWAL_FAILED,
    EventType.SUBSCRIPTION_SKIPPED,
    EventType.DIGEST,
    EventType.WEBHOOK_DISABLED,
    EventType.THING_SUBMITTED,
    EventType.LIKES_ACCOUNT_REVOKED,
    EventType.CHARGE_SEPA_NOTICE,
    EventType.CHARGE_ACTION,
    EventType.CHARGE_DECLINED,
    EventType.CHARGE_GIVEN_UP,
    EventType.CHARGE_NEEDS_METHOD,
    EventType.CHARGE_DISPUTED,
    EventType.TRANSFER_SENT,
    EventType.DISPUTE_RECOVERED,
]
# E-mails nobody can switch off: the notice a SEPA mandate requires before
# each debit, and what a payer must act on or be told about their money.
REQUIRED_EMAIL_TYPES = [
    EventType.WEBHOOK_DISABLED,
    EventType.CHARGE_SEPA_NOTICE,
    EventType.CHARGE_ACTION,
    EventType.CHARGE_DECLINED,
    EventType.CHARGE_GIVEN_UP,
    EventType.CHARGE_NEEDS_METHOD,
    EventType.CHARGE_DISPUTED,
    EventType.DISPUTE_RECOVERED,
]
# Kinds a person may switch off (the settings page lists every one).
OPTIONAL_EMAIL_TYPES = [t for t in EMAIL_TYPES if t not in REQUIRED_EMAIL_TYPES]
WEBHOOK_TYPES = [
    EventType.FLATTR_CREATED,
    EventType.SUBSCRIPTION_CREATED,
    EventType.PAYOUT_POSTED,
    EventType.WITHDRAWAL_PAID,
    EventType.WITHDRAWAL_FAILED,
]


class Language(models.TextChoices):
    EN = "en", "English"
    FR = "fr", "Français"


class DigestFrequency(models.TextChoices):
    OFF = "off", _("Off")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class NotificationSettings(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default="en")
    digest = models.CharField(
        _("digest"), max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.OFF
    )
    # Event types the person switched off.
    muted = models.JSONField(_("switched off"), default=list, blank=True)
    last_digest_at = models.DateTimeField(_("last digest at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            choice_constraint("language", Language, "notify_language_valid"),
            choice_constraint("digest", DigestFrequency, "notify_digest_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}, digest {self.digest}"


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recipient"),
    )
    data = models.JSONField(_("data"), default=dict)
    # The publisher's idempotency key: publishing twice stores one event.
    key = models.CharField(_("key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["recipient", "type", "created_at"], name="event_recipient")]
        constraints = [choice_constraint("type", EventType, "event_type_valid")]

    def __str__(self) -> str:
        return f"{self.type} for {self.recipient_id} ({self.key})"


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped (switched off)")
    FAILED = "failed", _("Failed")


class Email(models.Model):
    """One e-mail per event: the row is the guard that it goes out once."""

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, related_name="email", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    to = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    attempts = models.IntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        constraints = [choice_constraint("status", EmailStatus, "email_status_valid")]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.to} ({self.status})"


def new_webhook_secret() -> str:
    import base64
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    types = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("secret"), max_length=100, default=new_webhook_secret)
    # After a rotation the old secret also signs, until it expires.
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    # First failure of the current streak; cleared by any success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="webhook_url_is_http",
            )
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")


class WebhookDelivery(models.Model):
    """One event for one endpoint; attempts are logged below it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook endpoint"),
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.IntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="one_delivery_per_event_per_endpoint"
            ),
            choice_constraint("status", DeliveryStatus, "delivery_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} -> {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("webhook delivery"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.IntegerField(_("status code"), null=True, blank=True)
    response_body = models.CharField(_("response body"), max_length=2000, blank=True)  # truncated
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"
