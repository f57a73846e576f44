"""Moving a run through draft -> approved -> posted (or cancelled)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from accounts.models import User
from buttons.models import Flattr
from payouts.models import POSTING_STAGES, EventAction, HoldingStatus, PayoutRun, RunStatus
from payouts.services.compute import PayoutError, last_closed_period, payout_run_compute
from payouts.services.post import _returned_shares


def _can_approve(user: User) -> bool:
    return bool(user) and user.is_active and user.has_perm("payouts.approve_payoutrun")


@transaction.atomic(durable=True)
def payout_run_approve(*, run: PayoutRun, actor: User | None, queue: bool = True) -> PayoutRun:
    """Approve a computed, balanced draft; posting is queued on commit."""
    if actor is not None and not _can_approve(actor):
        raise PayoutError(f"{actor.email} may not approve payout runs")
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.DRAFT:
        raise PayoutError(f"the run of {run.label} is {run.status}; only a draft can be approved")
    if run.computed_at is None or not run.conservation_ok:
        raise PayoutError(f"the run of {run.label} does not balance; recompute it before approving")
    _check_four_eyes(run=run, actor=actor)
    run.status = RunStatus.APPROVED
    run.approved_by = actor
    run.approved_at = timezone.now()
    run.save(update_fields=["status", "approved_by", "approved_at"])
    run.events.create(action=EventAction.APPROVED, actor=actor)
    if queue:
        from payouts.tasks import payout_post

        transaction.on_commit(lambda: payout_post.delay(run.pk))
    return run


def paid_to(*, run: PayoutRun, user: User) -> int:
    """Cents the run credits to ``user``, whatever the path: their creator
    line's net, holdings of things they claimed that the run pays them
    (less the claim fee), and their shares of holdings it returns to their
    wallet."""
    net = run.creator_lines.filter(creator=user).aggregate(cents=Sum("net"))["cents"] or 0
    claimed = run.settled_holdings.filter(status=HoldingStatus.CLAIMED, claimed_by_id=user.pk)
    net += claimed.aggregate(cents=Sum(F("amount") - F("claim_fee")))["cents"] or 0
    # Only holdings of things the user flattred in the holding's month can
    # come back to them; their shares are derived like the posting does.
    # The holdings' months are read first and given as constants, so the
    # flattrs are read from those months' partitions only (and from none
    # when the run returns nothing), whatever plan PostgreSQL picks.
    returned = run.settled_holdings.filter(status=HoldingStatus.RETURNED)
    periods = sorted(set(returned.values_list("run__period", flat=True)))
    if not periods:
        return net
    returned = returned.filter(
        Exists(
            Flattr.objects.filter(
                supporter=user,
                thing_id=OuterRef("thing_id"),
                period=OuterRef("run__period"),
                period__in=periods,
            )
        )
    )
    if returned.exists():
        with connection.cursor() as cursor:
            given = _returned_shares(cursor, returned.values_list("id", "run_id", "thing_id"))
        net += sum(cents for _holding, supporter, cents in given if supporter == user.pk)
    return net


def _check_four_eyes(*, run: PayoutRun, actor: User | None) -> None:
    """Four eyes: nobody approves a run that pays them anything, through any
    of its lines, claimed holdings or returned holdings; another staff
    member must. (The withdrawal review threshold is for withdrawals: a run
    has no amount small enough to approve for oneself.)"""
    if actor is None:
        return
    paid = paid_to(run=run, user=actor)
    if paid > 0:
        raise PayoutError(
            f"{actor.email} is paid {paid / 100:.2f} in the run of {run.label};"
            " another staff member must approve it"
        )


@transaction.atomic(durable=True)
def payout_run_cancel(*, run: PayoutRun, actor: User, note: str = "") -> PayoutRun:
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in (RunStatus.DRAFT, RunStatus.APPROVED) or run.stage in POSTING_STAGES:
        raise PayoutError(f"the run of {run.label} is {run.status}; it can no longer be cancelled")
    run.status = RunStatus.CANCELLED
    run.save(update_fields=["status"])
    # Holdings this run meant to settle stay held for a later run.
    run.settled_holdings.update(
        status=HoldingStatus.HELD, settled_by=None, claimed_by_id=None, claim_fee=0
    )
    run.events.create(action=EventAction.CANCELLED, actor=actor, note=note[:500])
    return run


def payout_compute_due() -> PayoutRun | None:
    """Daily: compute the last closed month's run if it does not exist yet
    (a missed day heals itself); auto-approve small installations."""
    period = last_closed_period()
    if PayoutRun.objects.filter(period=period).exists():
        return None
    run = payout_run_compute(period=period)
    if settings.FLATTR_PAYOUT_AUTO_APPROVE and run.conservation_ok:
        run = payout_run_approve(run=run, actor=None)
    return run
