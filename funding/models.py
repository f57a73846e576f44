"""Pay after the month: what each approved run charges, collects, transfers
and recovers (docs/payouts.md, "Pay after the month").

Every amount is integer cents (BigIntegerField). Rows are written before
the processor is called (with an idempotency key derived from them) and
their outcome after, in a second short transaction; the ledger moves money
only in those outcome transactions.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.constraints import choice_constraint


class ChargeStatus(models.TextChoices):
    # Not tried yet.
    QUEUED = "queued", _("Queued")
    # A SEPA debit announced to the supporter (``notice_at``): not sent to
    # the processor before ``debit_from`` (FLATTR_SEPA_NOTICE_DAYS later).
    HELD = "held", _("Debit announced, waits for its date")
    # An attempt is recorded and the processor called; its outcome not yet.
    IN_FLIGHT = "in_flight", _("Being charged")
    SUCCEEDED = "succeeded", _("Succeeded")
    # SEPA Direct Debit accepted, final within about 14 business days.
    PROCESSING = "processing", _("Processing")
    # The supporter must confirm (strong customer authentication).
    REQUIRES_ACTION = "requires_action", _("Waiting for the supporter")
    # Declined; tried again at ``next_attempt_at``.
    FAILED = "failed", _("Declined, retry scheduled")
    # Declined for good with this way to pay (or none saved): waits until
    # the supporter saves a new one, then the schedule continues.
    NEEDS_METHOD = "needs_method", _("Waiting for a new way to pay")
    # No more retries: the supporter's flattrs of the month are unpaid pledges.
    GIVEN_UP = "given_up", _("Given up")


OPEN_STATUSES = (
    ChargeStatus.QUEUED,
    ChargeStatus.HELD,
    ChargeStatus.IN_FLIGHT,
    ChargeStatus.PROCESSING,
    ChargeStatus.REQUIRES_ACTION,
    ChargeStatus.FAILED,
    ChargeStatus.NEEDS_METHOD,
)
# The buckets of ``payout_settle``'s figures.
WAITING_STATUSES = (
    ChargeStatus.HELD,
    ChargeStatus.IN_FLIGHT,
    ChargeStatus.PROCESSING,
    ChargeStatus.REQUIRES_ACTION,
)
FAILED_STATUSES = (ChargeStatus.FAILED, ChargeStatus.NEEDS_METHOD, ChargeStatus.GIVEN_UP)


class RunFunding(models.Model):
    """One per after-mode run: the lock every collection, transfer plan and
    recovery of the run takes, and the counter of its credit transactions."""

    run = models.OneToOneField(
        "payouts.PayoutRun", on_delete=models.PROTECT, related_name="funding_state"
    )
    # Credit transactions posted so far (key ``credit:<run id>:<n>``).
    credits = models.IntegerField(_("credits"), default=0)
    # Settles started so far: a waiting charge is asked again only by a
    # settle after the one that first saw it waiting.
    settles = models.IntegerField(_("settles"), default=0, db_default=0)
    # Transfers may start once every charge is final, or from this moment.
    transfers_from = models.DateTimeField(_("transfers from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("run funding")
        verbose_name_plural = _("run fundings")

    def __str__(self) -> str:
        return f"funding of run {self.run_id}"


class Charge(models.Model):
    """What one supporter is charged for one run, once (key
    ``charge:<run id>:<supporter id>``; retries add ``:<attempt>``)."""

    run = models.ForeignKey("payouts.PayoutRun", on_delete=models.PROTECT, related_name="charges")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charges"
    )
    # The run's posting chunk it was created in; charging works by chunks.
    chunk = models.IntegerField(_("chunk"), default=0)
    amount = models.BigIntegerField(_("amount"))  # cents charged to the way to pay
    # Cents paid from money left in the wallet (a switch from wallet mode).
    wallet_part = models.BigIntegerField(_("wallet part"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=ChargeStatus.choices, default=ChargeStatus.QUEUED
    )
    attempts = models.IntegerField(_("attempts"), default=0)
    payment_intent_id = models.CharField(_("payment intent id"), max_length=255, blank=True)
    # The processor's decline or error code of the latest attempt.
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    fee_cents = models.BigIntegerField(_("processor fee"), default=0)  # cents
    # Succeeded before the processor knew its fee (a SEPA debit's balance
    # transaction can come later): the settle sweep asks again and books it.
    fee_pending = models.BooleanField(_("fee pending"), default=False, db_default=False)
    first_failed_at = models.DateTimeField(_("first failed at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    # The settle (``RunFunding.settles``) that first saw it processing or
    # waiting for the supporter; the processor is asked again from the next.
    waiting_seen = models.IntegerField(_("seen waiting at settle"), null=True, blank=True)
    # SEPA advance notices given for this charge (each names its date, the
    # event key counts them), when the latest was given (recorded in the
    # transaction that stores its e-mail) and the debit time it announced:
    # the next attempt is not made before it. Cleared when that attempt is
    # made (a retry needs its own notice) or the supporter switches to a card.
    notices = models.IntegerField(_("advance notices"), default=0, db_default=0)
    notice_at = models.DateTimeField(_("latest advance notice at"), null=True, blank=True)
    debit_from = models.DateTimeField(_("debit announced for"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "supporter"], name="one_charge_per_supporter_per_run"
            ),
            choice_constraint("status", ChargeStatus, "charge_status_valid"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, wallet_part__gte=0, fee_cents__gte=0),
                name="charge_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(debit_from__isnull=True)
                | models.Q(notice_at__isnull=False, debit_from__gte=models.F("notice_at")),
                name="charge_debit_not_before_its_notice",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="held") | models.Q(debit_from__isnull=False),
                name="held_charge_has_its_debit_date",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "status"], name="charge_run_status"),
            models.Index(fields=["run", "chunk"], name="charge_run_chunk"),
            models.Index(fields=["supporter", "status"], name="charge_supporter_status"),
            models.Index(
                fields=["run"], condition=models.Q(fee_pending=True), name="charge_fee_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"charge {self.run_id}:{self.supporter_id} {self.amount} ({self.status})"

    @property
    def collected(self) -> int:
        """Cents that reach the creators once it succeeded."""
        return self.amount + self.wallet_part


class AttemptStatus(models.TextChoices):
    IN_FLIGHT = "in_flight", _("Called, outcome unknown")
    DONE = "done", _("Outcome recorded")


class ChargeAttempt(models.Model):
    """One call of the processor for a charge, recorded before the call."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="attempts_made")
    number = models.IntegerField(_("number"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    payment_method_id = models.CharField(_("payment method id"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.IN_FLIGHT
    )
    # The processor's answer: a ``payments.gateways.base.ChargeStatus`` value.
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    payment_intent_id = models.CharField(_("payment intent id"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("charge attempt")
        verbose_name_plural = _("charge attempts")
        constraints = [
            models.UniqueConstraint(fields=["charge", "number"], name="one_attempt_per_number"),
            choice_constraint("status", AttemptStatus, "attempt_status_valid"),
        ]
        indexes = [models.Index(fields=["payment_intent_id"], name="attempt_payment_intent")]

    def __str__(self) -> str:
        return self.idempotency_key


class CreatorPayout(models.Model):
    """What one user (creator, or receiver of onward shares) gets from one
    run, from the charges collected so far. ``due`` follows from ``gross``
    by the run's rules; ``credited`` is on their earnings account (less what
    a recovery took back from it), ``sent`` left by transfer, ``reversed``
    came back by reversal, ``debt`` is owed on future earnings and
    ``debt_paid`` of it taken from this run's earnings. Always
    ``due == credited - reversed - debt`` and what they have received is
    ``sent - reversed - debt``."""

    run = models.ForeignKey(
        "payouts.PayoutRun", on_delete=models.PROTECT, related_name="creator_payouts"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="creator_payouts"
    )
    gross = models.BigIntegerField(_("gross collected"), default=0)  # cents
    fee = models.BigIntegerField(_("fee"), default=0)  # cents
    due = models.BigIntegerField(_("due"), default=0)  # cents: net, onward applied
    credited = models.BigIntegerField(_("credited"), default=0)  # cents
    sent = models.BigIntegerField(_("sent"), default=0)  # cents, in flight included
    reversed = models.BigIntegerField(_("reversed"), default=0)  # cents
    debt = models.BigIntegerField(_("debt"), default=0)  # cents
    debt_paid = models.BigIntegerField(_("debt paid"), default=0)  # cents
    transfers = models.IntegerField(_("transfers"), default=0)

    class Meta:
        verbose_name = _("creator payout")
        verbose_name_plural = _("creator payouts")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "creator"], name="one_payout_per_creator_per_run"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    due=models.F("credited") - models.F("reversed") - models.F("debt")
                ),
                name="creator_payout_due_is_credited_less_recovered",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} creator {self.creator_id}: {self.due}"

    @property
    def held(self) -> int:
        """Cents of this run on the creator's earnings, not yet sent."""
        return self.credited - self.sent - self.debt_paid


class TransferStatus(models.TextChoices):
    IN_FLIGHT = "in_flight", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Refused")


class Transfer(models.Model):
    """One transfer to a creator's connected account, key
    ``transfer:<run id>:<creator id>:<n>``."""

    payout = models.ForeignKey(
        CreatorPayout, on_delete=models.PROTECT, related_name="transfer_rows"
    )
    number = models.IntegerField(_("number"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    amount = models.BigIntegerField(_("amount"))  # cents
    reversed = models.BigIntegerField(_("reversed"), default=0)  # cents taken back
    destination = models.CharField(_("destination"), max_length=255, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=TransferStatus.choices,
        default=TransferStatus.IN_FLIGHT,
    )
    transfer_id = models.CharField(_("transfer id"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.UniqueConstraint(fields=["payout", "number"], name="one_transfer_per_number"),
            choice_constraint("status", TransferStatus, "transfer_status_valid"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, reversed__gte=0, reversed__lte=models.F("amount")),
                name="transfer_reversed_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class ChargeDispute(models.Model):
    """Money taken back from a succeeded charge (chargeback, SEPA refund, a
    late SEPA failure), recorded once per processor dispute id."""

    dispute_id = models.CharField(_("dispute id"), max_length=255, unique=True)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="disputes")
    amount = models.BigIntegerField(_("amount"))  # cents
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="dispute_amount_positive")
        ]

    def __str__(self) -> str:
        return self.dispute_id


class DisputeShare(models.Model):
    """A dispute's gross taken from one creator's collected shares (floored
    in proportion to the supporter's shares, the remaining cents to the
    largest shares first)."""

    dispute = models.ForeignKey(ChargeDispute, on_delete=models.PROTECT, related_name="shares")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    gross = models.BigIntegerField(_("gross"))  # cents

    class Meta:
        verbose_name = _("dispute share")
        verbose_name_plural = _("dispute shares")
        constraints = [
            models.UniqueConstraint(fields=["dispute", "creator"], name="one_share_per_creator"),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.creator_id} {self.gross}"


class RecoveryStatus(models.TextChoices):
    PENDING = "pending", _("To reverse")
    IN_FLIGHT = "in_flight", _("Being reversed")
    REVERSED = "reversed", _("Reversed")
    # The transfer could not be reversed: a debt on future earnings.
    DEBT = "debt", _("Debt on future earnings")


class Recovery(models.Model):
    """Cents to take back from one transfer after a dispute lowered what a
    creator is due below what they were sent (key ``reversal:<id>``)."""

    payout = models.ForeignKey(CreatorPayout, on_delete=models.PROTECT, related_name="recoveries")
    transfer = models.ForeignKey(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="recoveries"
    )
    amount = models.BigIntegerField(_("amount"))  # cents
    status = models.CharField(
        _("status"), max_length=16, choices=RecoveryStatus.choices, default=RecoveryStatus.PENDING
    )
    reversal_id = models.CharField(_("reversal id"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        constraints = [
            choice_constraint("status", RecoveryStatus, "recovery_status_valid"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="recovery_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"recovery {self.pk}: {self.amount} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"reversal:{self.pk}"
