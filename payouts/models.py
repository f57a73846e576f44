"""The monthly split: a PayoutRun per period and the lines that explain it.

All amounts are integer cents (BigIntegerField).
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import staff_field
from core.constraints import choice_constraint, first_of_month_constraint


class RunStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class RunStage(models.TextChoices):
    """Where computing or posting stands, so a crash resumes."""

    NEW = "", _("Not computed")
    COMPUTING_SUPPORTERS = "computing:supporters", _("Computing: supporters")
    COMPUTING_SHARES = "computing:shares", _("Computing: shares")
    COMPUTING_HOLDINGS = "computing:holdings", _("Computing: holdings")
    COMPUTED = "computed", _("Computed")
    POSTING_SUPPORTERS = "posting:supporters", _("Posting: supporters")
    POSTING_CREATORS = "posting:creators", _("Posting: creators and holdings")
    POSTING_SETTLEMENTS = "posting:settlements", _("Posting: settlements")
    DONE = "done", _("Done")


COMPUTING_STAGES = (
    RunStage.COMPUTING_SUPPORTERS,
    RunStage.COMPUTING_SHARES,
    RunStage.COMPUTING_HOLDINGS,
)
POSTING_STAGES = (
    RunStage.POSTING_SUPPORTERS,
    RunStage.POSTING_CREATORS,
    RunStage.POSTING_SETTLEMENTS,
)


class EventAction(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    RECOMPUTED = "recomputed", _("Recomputed")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")
    SHORTFALL = "shortfall", _("Shortfall recomputed")
    POSTED = "posted", _("Posted")


class Funding(models.TextChoices):
    """How a run's supporters pay (``FLATTR_FUNDING`` when it was computed):
    from their wallet, or charged after the month (docs/payouts.md, "Pay
    after the month")."""

    WALLET = "wallet", _("Wallet")
    AFTER = "after", _("Charged after the month")


class PayoutRun(models.Model):
    period = models.DateField(_("period"), unique=True, help_text=_("First day of the month."))
    # Frozen at computing, so a mode switch never changes how an existing
    # run is posted.
    funding = models.CharField(
        _("funding"),
        max_length=8,
        choices=Funding.choices,
        default=Funding.WALLET,
        db_default=Funding.WALLET,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.DRAFT
    )
    stage = models.CharField(_("stage"), max_length=64, blank=True, choices=RunStage.choices)
    progress = models.CharField(_("progress"), max_length=200, blank=True)
    supporters = models.IntegerField(_("supporters"), default=0)
    flattrs = models.BigIntegerField(_("flattrs"), default=0)
    creators = models.IntegerField(_("creators"), default=0)
    taken = models.BigIntegerField(_("taken"), default=0)  # cents taken from wallets
    gross = models.BigIntegerField(_("gross"), default=0)  # cents shared to registered creators
    fee = models.BigIntegerField(_("fee"), default=0)  # cents kept by the platform
    net = models.BigIntegerField(_("net"), default=0)  # cents credited to creators
    unclaimed = models.BigIntegerField(_("unclaimed"), default=0)  # cents held for unclaimed things
    charity = models.BigIntegerField(
        _("charity"), default=0
    )  # cents of unspent budgets given to charity
    returned = models.BigIntegerField(
        _("returned"), default=0
    )  # cents of expired holdings returned
    claimed_gross = models.BigIntegerField(
        _("claimed gross"), default=0
    )  # cents of holdings paid to new owners
    claimed_fee = models.BigIntegerField(_("claimed fee"), default=0)
    # Onward shares (docs/payouts.md, "Onward shares"): cents creators passed
    # on of their net, and the part of it credited to users (the rest is held
    # for unclaimed things, in ``unclaimed``).
    onward = models.BigIntegerField(_("passed on"), default=0, db_default=0)
    onward_received = models.BigIntegerField(_("received onward"), default=0, db_default=0)
    conservation_ok = models.BooleanField(_("conservation ok"), default=False)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    approved_by = staff_field(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout run")
        verbose_name_plural = _("payout runs")
        ordering = ["-period"]
        permissions = [("approve_payoutrun", "Can approve a monthly payout run")]
        constraints = [
            first_of_month_constraint("period", "payout_period_is_first_of_month"),
            choice_constraint("status", RunStatus, "payout_status_valid"),
            choice_constraint("stage", RunStage, "payout_stage_valid"),
            choice_constraint("funding", Funding, "payout_funding_valid"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "posted"])
                | models.Q(conservation_ok=True),
                name="payout_approved_only_when_conserved",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    taken=models.F("net")
                    - models.F("onward")
                    + models.F("onward_received")
                    + models.F("fee")
                    + models.F("unclaimed")
                    + models.F("charity")
                )
                | models.Q(conservation_ok=False),
                name="payout_conservation",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.period:%Y-%m} ({self.status})"

    @property
    def label(self) -> str:
        return f"{self.period:%Y-%m}"


def line_run_field(related_name: str, **options: Any) -> models.ForeignKey:
    """The run a line belongs to. Not indexed alone: each line table's
    unique (run, ...) constraint starts with it."""
    return models.ForeignKey(
        PayoutRun,
        on_delete=models.CASCADE,
        related_name=related_name,
        verbose_name=_("run"),
        db_index=False,
        **options,
    )


class PayoutRunEvent(models.Model):
    run = models.ForeignKey(
        PayoutRun, on_delete=models.CASCADE, related_name="events", verbose_name=_("run")
    )
    action = models.CharField(_("action"), max_length=32, choices=EventAction.choices)
    actor = staff_field(_("actor"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout run event")
        verbose_name_plural = _("payout run events")
        ordering = ["at", "id"]
        constraints = [
            choice_constraint("action", EventAction, "payout_event_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"


class SupporterLine(models.Model):
    # The run is checked by the database once per statement over all the
    # statement's lines (a million at 1M supporters), not by a foreign-key
    # check per line at commit; a run with lines cannot be deleted, nor a
    # line moved to another run (payouts migration 0009).
    run = line_run_field("supporter_lines", db_constraint=False)
    # Checked by the database once per statement, not per line (payouts
    # migration 0010): a user with lines cannot go or change its id.
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("supporter"),
    )
    budget = models.BigIntegerField(_("budget"))  # cents
    balance = models.BigIntegerField(_("balance"))  # cents in the wallet at computation time
    taken = models.BigIntegerField(_("taken"))  # cents: min(budget, balance); after mode: budget
    # Cents of ``taken`` on things nobody owned (after mode: pledges, never
    # charged; always 0 in wallet mode, where they are held).
    pledged = models.BigIntegerField(_("pledged"), default=0, db_default=0)
    flattrs = models.IntegerField(_("flattrs"))
    charity = models.BigIntegerField(
        _("charity"), default=0
    )  # cents (unspent budget, charity mode)
    chunk = models.IntegerField(_("chunk"), default=0)  # posting batch

    class Meta:
        verbose_name = _("supporter line")
        verbose_name_plural = _("supporter lines")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "supporter"], name="one_line_per_supporter_per_run"
            ),
            models.CheckConstraint(
                condition=models.Q(taken__gte=0), name="supporter_taken_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["run", "chunk"], name="supporterline_run_chunk")]

    def __str__(self) -> str:
        return f"{self.supporter_id}: {self.taken}"


class CreatorLine(models.Model):
    run = line_run_field("creator_lines")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("creator"),
    )
    gross = models.BigIntegerField(_("gross"))  # cents
    fee = models.BigIntegerField(_("fee"))  # cents
    net = models.BigIntegerField(_("net"))  # cents
    flattrs = models.IntegerField(_("flattrs"))
    # Counted flattrs from accounts created in the run's month (fraud review).
    flattrs_from_new = models.IntegerField(_("flattrs from new accounts"), default=0)
    # Onward shares: cents passed on of ``net`` (the creator keeps
    # ``net - onward_out``) and cents received onward from other creators
    # (no fee, never passed on again).
    onward_out = models.BigIntegerField(_("passed on"), default=0, db_default=0)
    onward_in = models.BigIntegerField(_("received onward"), default=0, db_default=0)

    class Meta:
        verbose_name = _("creator line")
        verbose_name_plural = _("creator lines")
        constraints = [
            models.UniqueConstraint(fields=["run", "creator"], name="one_line_per_creator_per_run"),
            models.CheckConstraint(
                condition=models.Q(net=models.F("gross") - models.F("fee")),
                name="creator_net_is_gross_minus_fee",
            ),
            models.CheckConstraint(
                condition=models.Q(onward_out__gte=0, onward_in__gte=0)
                & models.Q(onward_out__lte=models.F("net")),
                name="creator_onward_within_net",
            ),
        ]
        indexes = [models.Index(fields=["run", "-gross"], name="creatorline_run_gross")]

    def __str__(self) -> str:
        return f"{self.creator_id}: {self.gross}"


class ThingLine(models.Model):
    """A thing's part of a run, with its owner at computing time.

    Shares are not stored: a supporter's share of a flattr is derived from
    their line (``taken``, ``flattrs``) and the period's flattrs, which are
    final once the run exists (``payouts/shares.py``). A flattr counted in
    the run iff its thing has a line here and the supporter is not that
    line's creator; these rows freeze the only mutable inputs of that rule
    (the thing's owner, hidden, removed). One row per thing, not per share.
    """

    run = line_run_field("thing_lines")
    thing_id = models.BigIntegerField(_("thing id"))
    creator_id = models.BigIntegerField(_("creator id"), null=True)  # empty: unclaimed thing
    amount = models.BigIntegerField(_("amount"))  # cents: the sum of the thing's shares
    flattrs = models.IntegerField(_("flattrs"))
    # Counted flattrs from accounts created in the run's month (fraud review).
    flattrs_from_new = models.IntegerField(_("flattrs from new accounts"), default=0)

    class Meta:
        verbose_name = _("thing line")
        verbose_name_plural = _("thing lines")
        constraints = [
            models.UniqueConstraint(fields=["run", "thing_id"], name="one_line_per_thing_per_run"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="thing_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["creator_id", "thing_id"], name="thingline_creator_thing")]

    def __str__(self) -> str:
        return f"thing {self.thing_id}: {self.amount}"


class HoldingStatus(models.TextChoices):
    HELD = "held", _("Held")
    CLAIMED = "claimed", _("Claimed by its creator")
    RETURNED = "returned", _("Returned to supporters")
    # After mode: shares on an unclaimed thing are recorded, never charged
    # nor held; a later claim pays nothing of them.
    PLEDGED = "pledged", _("Pledged (not charged)")


class UnclaimedLine(models.Model):
    """Money a run put aside for a thing nobody owned yet."""

    run = line_run_field("unclaimed_lines")
    thing_id = models.BigIntegerField(_("thing id"))
    amount = models.BigIntegerField(_("amount"))  # cents
    flattrs = models.IntegerField(_("flattrs"))
    status = models.CharField(
        _("status"), max_length=16, choices=HoldingStatus.choices, default=HoldingStatus.HELD
    )
    settled_by = models.ForeignKey(
        PayoutRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settled_holdings",
        verbose_name=_("settled by"),
    )
    # When claimed: who got it and the fee taken (cents).
    claimed_by_id = models.BigIntegerField(_("claimed by id"), null=True, blank=True)
    claim_fee = models.BigIntegerField(_("claim fee"), default=0)
    # The part of ``amount`` passed on by creators (onward shares, no fee
    # when claimed; returned to those creators, ``OnwardLine``).
    onward = models.BigIntegerField(_("passed on"), default=0, db_default=0)

    class Meta:
        verbose_name = _("unclaimed line")
        verbose_name_plural = _("unclaimed lines")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "thing_id"], name="one_holding_per_thing_per_run"
            ),
            choice_constraint("status", HoldingStatus, "holding_status_valid"),
            models.CheckConstraint(
                condition=models.Q(onward__gte=0, onward__lte=models.F("amount")),
                name="holding_onward_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "thing_id"], name="unclaimed_status_thing")]

    def __str__(self) -> str:
        return f"thing {self.thing_id}: {self.amount} ({self.status})"


class OnwardShare(models.Model):
    """One entry of a creator's list of onward shares ("pass it on"): a
    whole percent of their monthly net to a creator or to a thing (exactly
    one). The list is replaced whole (``payouts.onward.onward_set``); a run
    freezes it in its ``OnwardLine`` rows."""

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="onward_shares",
        verbose_name=_("creator"),
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("creator passed on to"),
    )
    target_thing = models.ForeignKey(
        "buttons.Thing",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("thing passed on to"),
    )
    percent = models.PositiveSmallIntegerField(_("percent"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("onward share")
        verbose_name_plural = _("onward shares")
        ordering = ["creator", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_user__isnull=True, target_thing__isnull=False)
                | models.Q(target_user__isnull=False, target_thing__isnull=True),
                name="onward_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=1, percent__lte=100), name="onward_percent_1_100"
            ),
            models.CheckConstraint(
                condition=~models.Q(target_user=models.F("creator")), name="onward_not_to_self"
            ),
            models.UniqueConstraint(
                fields=["creator", "target_user"],
                condition=models.Q(target_user__isnull=False),
                name="onward_user_once",
            ),
            models.UniqueConstraint(
                fields=["creator", "target_thing"],
                condition=models.Q(target_thing__isnull=False),
                name="onward_thing_once",
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"user {self.target_user_id}"
            if self.target_user_id
            else f"thing {self.target_thing_id}"
        )
        return f"{self.creator_id} -> {target}: {self.percent}%"


class OnwardLine(models.Model):
    """One onward share as a run froze it: who passed on, to whom (the user
    credited: the creator named, or the thing's owner at computing time;
    empty while the thing is unclaimed: held), the percent and the cents
    (``rules.onward_cents`` of the giver's net)."""

    run = line_run_field("onward_lines")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("passed on by"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("credited to"),
    )
    thing_id = models.BigIntegerField(_("thing id"), null=True, blank=True)
    percent = models.PositiveSmallIntegerField(_("percent"))
    cents = models.BigIntegerField(_("cents"), default=0)

    class Meta:
        verbose_name = _("onward line")
        verbose_name_plural = _("onward lines")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "from_user", "to_user", "thing_id"],
                nulls_distinct=False,
                name="one_onward_line_per_target_per_run",
            ),
            models.CheckConstraint(
                condition=models.Q(to_user__isnull=False) | models.Q(thing_id__isnull=False),
                name="onward_line_has_target",
            ),
            models.CheckConstraint(
                condition=models.Q(cents__gte=0, percent__gte=1, percent__lte=100),
                name="onward_line_amounts_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "to_user"], name="onwardline_run_to"),
            models.Index(fields=["run", "thing_id"], name="onwardline_run_thing"),
        ]

    def __str__(self) -> str:
        return f"{self.from_user_id} -> {self.to_user_id}/{self.thing_id}: {self.cents}"


class PayoutChunk(models.Model):
    """One unit of posting work: a stage of a run is a set of chunks that any
    number of workers take in parallel, each exactly once (a worker holds
    the chunk's row lock while it posts; ``done_at`` is set in the same
    database transaction as the chunk's ledger transactions)."""

    run = models.ForeignKey(
        PayoutRun, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("run")
    )
    stage = models.CharField(_("stage"), max_length=64, choices=RunStage.choices)
    number = models.IntegerField(_("number"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("posting chunk")
        verbose_name_plural = _("posting chunks")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "stage", "number"], name="one_chunk_per_number_per_stage"
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=POSTING_STAGES), name="chunk_stage_is_posting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.stage} #{self.number}"


# --- Transparency (notify helper): the commitment published for a run ----


class RunCommitment(models.Model):
    """The Merkle root over a posted run's supporter and creator lines,
    chained with the root of the commitment posted just before it (posting
    order, whatever its month). Written once, at posting, inside the
    posting transaction; the database refuses to change or delete it, and
    to chain two commitments to one previous root."""

    run = models.OneToOneField(
        PayoutRun, on_delete=models.PROTECT, related_name="commitment", verbose_name=_("run")
    )
    period = models.DateField(_("period"), unique=True)
    leaves = models.IntegerField(_("leaves"))
    merkle_root = models.CharField(_("merkle root"), max_length=64)  # hex SHA-256
    previous_root = models.CharField(
        _("previous root"), max_length=64
    )  # hex: the root of the commitment posted before; 64 zeros for the first
    root = models.CharField(
        _("root"), max_length=64
    )  # hex SHA-256(prefix, previous_root, merkle_root)
    # Keys the per-line salts; never published (each proof carries its own salts).
    secret = models.CharField(_("secret"), max_length=64)
    # Month figures frozen at posting (counts that would be costly to redo).
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-period"]
        verbose_name = _("run commitment")
        verbose_name_plural = _("run commitments")

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}: {self.root}"
