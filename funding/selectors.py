"""Reads of pay after the month, for the commands, the admin and the pages.

- ``run_figures(run)``: ``payout_settle``'s JSON object (cumulative);
- ``run_progress(run)``: counts and cents by charge state, failures by
  reason, an estimated end (the admin run page);
- ``supporter_months(user)``: a supporter's charge per run (My months);
- ``creator_earnings(user)``: a creator's expected, collected,
  transferred and owed per run;
- ``statement_charges(run, supporter_ids)``, ``creators_ready(creator_ids)``:
  what the monthly statements of an after-mode run say of the charges and
  of the transfers (``payouts.notices``, through ``payouts.funding_hook``);
- ``funding_problems()``: the after-mode checks ``ledger_problems`` runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from funding.models import (
    FAILED_STATUSES,
    OPEN_STATUSES,
    WAITING_STATUSES,
    Charge,
    ChargeDispute,
    ChargeStatus,
    CreatorPayout,
    Transfer,
    TransferStatus,
)
from funding.services.accounts import run_clearing
from payments.models import PaymentMethod, PaymentMethodStatus
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus
from payouts.funding_hook import StatementCharge
from payouts.models import CreatorLine, HoldingStatus, PayoutRun, UnclaimedLine


def _figure(charges: QuerySet[Charge], statuses: tuple[str, ...] | None = None) -> dict[str, int]:
    if statuses is not None:
        charges = charges.filter(status__in=statuses)
    agg = charges.aggregate(count=Count("pk"), cents=Sum("amount"))
    return {"count": agg["count"], "cents": agg["cents"] or 0}


def run_figures(*, run: PayoutRun) -> dict[str, Any]:
    """The state of an after-mode run's money (``payout_settle`` prints it):
    ``charged`` = succeeded + failed + waiting (charges of an amount that
    were tried); ``pledged`` the shares on unclaimed things; ``transferred``
    what creators hold of the transfers (reversals taken off);
    ``disputed`` the disputes recorded; ``conservation_ok`` the checks of
    ``run_conservation``."""
    charges = Charge.objects.filter(run=run, amount__gt=0)
    succeeded = _figure(charges, (ChargeStatus.SUCCEEDED,))
    failed = _figure(charges, FAILED_STATUSES)
    waiting = _figure(charges, WAITING_STATUSES)
    pledges = UnclaimedLine.objects.filter(run=run, status=HoldingStatus.PLEDGED).aggregate(
        count=Sum("flattrs"), cents=Sum("amount")
    )
    sent = Transfer.objects.filter(payout__run=run, status=TransferStatus.SENT).aggregate(
        count=Count("pk"), cents=Sum("amount"), back=Sum("reversed")
    )
    disputes = ChargeDispute.objects.filter(charge__run=run).aggregate(
        count=Count("pk"), cents=Sum("amount")
    )
    return {
        "charged": {
            "count": succeeded["count"] + failed["count"] + waiting["count"],
            "cents": succeeded["cents"] + failed["cents"] + waiting["cents"],
        },
        "succeeded": succeeded,
        "failed": failed,
        "waiting": waiting,
        "pledged": {"count": pledges["count"] or 0, "cents": pledges["cents"] or 0},
        "transferred": {
            "count": sent["count"],
            "cents": (sent["cents"] or 0) - (sent["back"] or 0),
        },
        "disputed": {"count": disputes["count"], "cents": disputes["cents"] or 0},
        "conservation_ok": not run_conservation(run=run),
    }


def run_conservation(*, run: PayoutRun) -> list[str]:
    """What does not add up in an after-mode run (empty: conserved):
    collected (succeeded charges with their wallet part, less disputes)
    = creators' collected gross = their dues + fees; the run's clearing
    account holds exactly what open charges still owe; nobody's held money
    is negative."""
    problems = []
    collected = (
        Charge.objects.filter(run=run, status=ChargeStatus.SUCCEEDED).aggregate(
            c=Sum("amount") + Sum("wallet_part")
        )["c"]
        or 0
    )
    disputed = ChargeDispute.objects.filter(charge__run=run).aggregate(c=Sum("amount"))["c"] or 0
    rows = CreatorPayout.objects.filter(run=run).aggregate(
        gross=Sum("gross"), fee=Sum("fee"), due=Sum("due")
    )
    gross, fee, due = (rows[k] or 0 for k in ("gross", "fee", "due"))
    if collected - disputed != gross:
        problems.append(
            f"run {run.label}: collected {collected} less disputed {disputed} is not the"
            f" creators' gross {gross}"
        )
    if gross != fee + due:
        problems.append(f"run {run.label}: gross {gross} is not fee {fee} + due {due}")
    open_cents = (
        Charge.objects.filter(run=run, status__in=OPEN_STATUSES).aggregate(
            c=Sum("amount") + Sum("wallet_part")
        )["c"]
        or 0
    )
    clearing = run_clearing(run).balance
    if clearing != open_cents:
        problems.append(
            f"run {run.label}: clearing holds {clearing}, open charges owe {open_cents}"
        )
    negative = [row.creator_id for row in CreatorPayout.objects.filter(run=run) if row.held < 0]
    if negative:
        problems.append(f"run {run.label}: held below zero for users {negative[:10]}")
    return problems


def run_progress(*, run: PayoutRun) -> dict[str, Any]:
    """Charging progress for the admin: per state ``{count, cents}``,
    declines by reason, when charging should end at the shared rate (one
    request a charge, ``STRIPE_MAX_REQUESTS_PER_SECOND``), and the SEPA
    debits held for their announced date (``held``: count, cents, first and
    last date)."""
    charges = Charge.objects.filter(run=run, amount__gt=0)
    states = {
        row["status"]: {"count": row["count"], "cents": row["cents"] or 0}
        for row in charges.values("status").annotate(count=Count("pk"), cents=Sum("amount"))
    }
    reasons = dict(
        charges.filter(status__in=FAILED_STATUSES)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .values_list("reason", "n")
    )
    now = timezone.now()
    to_try = charges.filter(
        Q(status__in=(ChargeStatus.QUEUED, ChargeStatus.IN_FLIGHT))
        | Q(status=ChargeStatus.HELD, debit_from__lte=now)
        | Q(status=ChargeStatus.FAILED, next_attempt_at__lte=now)
    ).count()
    held = charges.filter(status=ChargeStatus.HELD, debit_from__gt=now).aggregate(
        count=Count("pk"), cents=Sum("amount"), first=Min("debit_from"), last=Max("debit_from")
    )
    rate = max(float(settings.STRIPE_MAX_REQUESTS_PER_SECOND), 0.001)
    return {
        "states": states,
        "reasons": reasons,
        "to_try": to_try,
        # SEPA debits announced, waiting for their date (not counted in to_try).
        "held": {
            "count": held["count"],
            "cents": held["cents"] or 0,
            "first": held["first"],
            "last": held["last"],
        },
        "estimated_end": now + dt.timedelta(seconds=to_try / rate) if to_try else None,
        "figures": run_figures(run=run),
    }


def supporter_months(*, user: User) -> list[dict[str, Any]]:
    """A supporter's charges, newest month first: month, amount, wallet
    part, status, reason, next retry, the date a SEPA debit was announced
    for, and the pledged cents (shares on unclaimed things, not charged)."""
    from payouts.models import SupporterLine

    pledged = dict(
        SupporterLine.objects.filter(supporter=user, pledged__gt=0).values_list("run_id", "pledged")
    )
    return [
        {
            "period": charge.run.period,
            "amount": charge.amount,
            "wallet_part": charge.wallet_part,
            "status": charge.status,
            "reason": charge.reason,
            "next_attempt_at": charge.next_attempt_at,
            # The date a SEPA debit was announced for, while it waits for it.
            "debit_from": charge.debit_from,
            "pledged": pledged.get(charge.run_id, 0),
            "charge": charge,
        }
        for charge in Charge.objects.filter(supporter=user)
        .select_related("run")
        .order_by("-run__period")
    ]


def creator_earnings(*, user: User) -> list[dict[str, Any]]:
    """A creator's after-mode months, newest first: ``expected`` (the net
    the run computed, onward applied), ``collected`` (what the charges so
    far give them), ``transferred`` (sent less reversed), ``owed`` (held on
    the books, e.g. no ready payout account) and ``debt``."""
    expected = {
        run_id: net - out + received
        for run_id, net, out, received in CreatorLine.objects.filter(
            creator=user, run__funding="after"
        ).values_list("run_id", "net", "onward_out", "onward_in")
    }
    rows = {p.run_id: p for p in CreatorPayout.objects.filter(creator=user)}
    runs = PayoutRun.objects.filter(pk__in=set(expected) | set(rows)).order_by("-period")
    result = []
    for run in runs:
        row = rows.get(run.pk)
        result.append(
            {
                "period": run.period,
                "expected": expected.get(run.pk, 0),
                "collected": row.due if row else 0,
                "transferred": (row.sent - row.reversed) if row else 0,
                "owed": row.held if row else 0,
                "debt": (row.debt) if row else 0,
            }
        )
    return result


def statement_charges(*, run: PayoutRun, supporter_ids: list[int]) -> dict[int, StatementCharge]:
    """For the statements of a posted after-mode run, each of these
    supporters' charge (the cents charged to the way to pay and the cents
    their wallet paid first; none for a supporter whose shares were all
    pledges) and the way to pay it goes to (the latest one not removed,
    as the charge uses it; None when there is none or it needs replacing)."""
    charges = {
        supporter_id: (amount, wallet_part)
        for supporter_id, amount, wallet_part in Charge.objects.filter(
            run=run, supporter_id__in=supporter_ids
        ).values_list("supporter_id", "amount", "wallet_part")
    }
    methods = {
        method.user_id: method
        for method in PaymentMethod.objects.filter(user_id__in=supporter_ids)
        .exclude(status=PaymentMethodStatus.REMOVED)
        .order_by("user_id", "-pk")
        .distinct("user_id")
    }
    told = {}
    for supporter_id in supporter_ids:
        amount, wallet_part = charges.get(supporter_id, (0, 0))
        method = methods.get(supporter_id)
        usable = method is not None and method.status == PaymentMethodStatus.ACTIVE
        told[supporter_id] = StatementCharge(
            charge_cents=amount,
            wallet_cents=wallet_part,
            method=(
                {"kind": method.kind, "brand": method.brand, "last4": method.last4}
                if usable and method is not None
                else None
            ),
            method_needs_replacing=method is not None and not usable,
        )
    return told


def creators_ready(*, creator_ids: list[int]) -> set[int]:
    """Those of these creators whose connected account can receive
    transfers now (the others' earnings stay owed on the books)."""
    return set(
        PayoutAccount.objects.filter(
            user_id__in=creator_ids, status=PayoutAccountStatus.ENABLED
        ).values_list("user_id", flat=True)
    )


def funding_problems() -> list[str]:
    """``ledger_problems``' after-mode checks: every posted after-mode run
    conserves (``run_conservation``: its clearing account holds only what
    open charges owe, so nothing rests once a run is settled), and no
    supporter's receivable differs from what their open charges and debts
    say they owe."""
    problems: list[str] = []
    for run in PayoutRun.objects.filter(funding="after", funding_state__isnull=False):
        problems += run_conservation(run=run)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.user_id, a.balance, coalesce(o.owed, 0) + coalesce(d.debt, 0)
              FROM ledger_account a
              LEFT JOIN (SELECT supporter_id, sum(amount) AS owed FROM funding_charge
                          WHERE status = ANY(%(open)s) GROUP BY supporter_id) o
                ON o.supporter_id = a.user_id
              LEFT JOIN (SELECT p.creator_id, sum(p.debt) - sum(p.debt_paid) AS debt
                           FROM funding_creatorpayout p GROUP BY p.creator_id) d
                ON d.creator_id = a.user_id
             WHERE a.kind = 'receivable'
               AND (o.owed IS NOT NULL OR d.debt IS NOT NULL)
               AND -a.balance <> coalesce(o.owed, 0) + coalesce(d.debt, 0)
             LIMIT 100
            """,
            {"open": [str(s) for s in OPEN_STATUSES]},
        )
        problems += [
            f"user {user}: receivable {balance} but open charges and debts owe {owed}"
            for user, balance, owed in cursor.fetchall()
        ]
    return problems
