"""What creators are due from what an after-mode run collected.

``run_reconcile`` brings every ``CreatorPayout`` of a run to what the
charges collected so far give, under the run's ``RunFunding`` row lock:

- ``G``, a user's gross: their shares (``payouts/shares.py``, derived)
  from the supporters whose charge succeeded, less what disputes took back
  from them (``DisputeShare``);
- the fee on ``G`` rounded half up, the net ``G - fee`` (``payouts/rules``),
  the run's frozen onward shares applied to the net
  (``rules.onward_split``), and what others passed on to them added: that
  is ``due``;
- one ledger transaction ``credit:<run id>:<n>`` moves the difference:
  clearing -ΔG, platform fees +Δfee, earnings +Δdue for those due more;
  for those due less (a dispute), earnings -what is still held of the run
  and, for the rest, their receivable (a debt that a transfer reversal
  settles, ``disputes.recoveries_run``).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.db.models import Sum

from funding.models import (
    ChargeStatus,
    CreatorPayout,
    DisputeShare,
    Recovery,
    RecoveryStatus,
    RunFunding,
    Transfer,
    TransferStatus,
)
from funding.services import accounts
from ledger.models import AccountKind, TransactionKind
from ledger.services import (
    NewTransaction,
    accounts_ensure,
    platform_account,
    transactions_post_many,
)
from payouts.models import OnwardLine, PayoutRun
from payouts.rules import fee_cents, onward_cents
from payouts.shares import counted_sql


def collected_gross(*, run: PayoutRun) -> dict[int, int]:
    """Each creator's gross from the run's succeeded charges, less disputes."""
    succeeded = (
        "sl.supporter_id IN (SELECT supporter_id FROM funding_charge"
        " WHERE run_id = %(run)s AND status = %(succeeded)s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT creator_id, sum(amount)::bigint
              FROM ({counted_sql(supporters=succeeded)}) s
             WHERE creator_id IS NOT NULL
             GROUP BY creator_id
            """,  # noqa: S608 - only our own SQL fragments are interpolated
            {"run": run.pk, "period": run.period, "succeeded": str(ChargeStatus.SUCCEEDED)},
        )
        gross: dict[int, int] = defaultdict(int, dict(cursor.fetchall()))
    for creator, cents in (
        DisputeShare.objects.filter(dispute__charge__run=run)
        .values("creator_id")
        .annotate(cents=Sum("gross"))
        .values_list("creator_id", "cents")
    ):
        gross[creator] -= cents
    return {creator: cents for creator, cents in gross.items() if cents}


def due_from_gross(
    *, run: PayoutRun, gross: dict[int, int]
) -> tuple[dict[int, int], dict[int, int]]:
    """({user: fee}, {user: due}) from each creator's collected gross, with
    the run's frozen onward shares (one hop, no second fee)."""
    percent = settings.FLATTR_FEE_PERCENT
    fee = {c: fee_cents(gross=g, percent=percent) for c, g in gross.items()}
    due: dict[int, int] = defaultdict(int)
    for creator, g in gross.items():
        due[creator] += g - fee[creator]
    for giver, receiver, pct in OnwardLine.objects.filter(
        run=run, to_user__isnull=False, from_user_id__in=list(gross)
    ).values_list("from_user_id", "to_user_id", "percent"):
        cents = onward_cents(net=gross[giver] - fee[giver], percent=pct)
        due[giver] -= cents
        due[receiver] += cents
    return fee, dict(due)


def run_reconcile(*, run: PayoutRun) -> int:
    """Credit (or take back) what the collected charges changed; inside the
    caller's transaction, which must hold the ``RunFunding`` row lock.
    Returns the cents of gross moved."""
    state = RunFunding.objects.select_for_update().get(run=run)
    gross = collected_gross(run=run)
    fee, due = due_from_gross(run=run, gross=gross)
    payouts = {p.creator_id: p for p in CreatorPayout.objects.select_for_update().filter(run=run)}
    users = set(gross) | set(due) | set(payouts)
    missing = [u for u in users if u not in payouts]
    if missing:
        CreatorPayout.objects.bulk_create(
            [CreatorPayout(run=run, creator_id=u) for u in missing], ignore_conflicts=True
        )
        payouts = {
            p.creator_id: p for p in CreatorPayout.objects.select_for_update().filter(run=run)
        }
    d_gross = d_fee = 0
    credits: dict[int, int] = {}  # user: +earnings
    debts: dict[int, int] = {}  # user: -receivable
    recoveries: list[tuple[CreatorPayout, int]] = []
    for user in sorted(users):
        row = payouts[user]
        new_gross, new_fee, new_due = gross.get(user, 0), fee.get(user, 0), due.get(user, 0)
        d_gross += new_gross - row.gross
        d_fee += new_fee - row.fee
        change = new_due - row.due
        if change > 0:
            credits[user] = change
            row.credited += change
        elif change < 0:
            drop = -change
            from_held = min(drop, max(row.held, 0))
            if from_held:
                credits[user] = -from_held
                row.credited -= from_held
            rest = drop - from_held
            if rest:
                debts[user] = rest
                row.debt += rest
                recoveries.append((row, rest))
        row.gross, row.fee, row.due = new_gross, new_fee, new_due
    if not (d_gross or d_fee or credits or debts):
        return 0
    state.credits += 1
    state.save(update_fields=["credits"])
    earnings = accounts_ensure(kind=AccountKind.EARNINGS, user_ids=list(credits))
    receivables = accounts_ensure(kind=AccountKind.RECEIVABLE, user_ids=list(debts))
    legs = [
        (accounts.run_clearing(run).pk, -d_gross),
        (platform_account(kind=AccountKind.PLATFORM_FEES).pk, d_fee),
    ]
    legs += [(earnings[u], cents) for u, cents in credits.items()]
    legs += [(receivables[u], -cents) for u, cents in debts.items()]
    transactions_post_many(
        transactions=[
            NewTransaction(
                kind=TransactionKind.PAYOUT,
                idempotency_key=f"credit:{run.pk}:{state.credits}",
                legs=legs,
                memo=f"Collected for {run.label}",
                reference=accounts.reference(run),
            )
        ]
    )
    CreatorPayout.objects.bulk_update(
        [payouts[u] for u in users], ["gross", "fee", "due", "credited", "debt"]
    )
    for row, cents in recoveries:
        _recoveries_plan(row, cents)
    return d_gross


def _recoveries_plan(row: CreatorPayout, cents: int) -> None:
    """Spread ``cents`` to take back over the creator's sent transfers of
    the run, newest first; what no transfer covers stays a debt."""
    for transfer in Transfer.objects.filter(payout=row, status=TransferStatus.SENT).order_by(
        "-number"
    ):
        planned = Recovery.objects.filter(transfer=transfer).aggregate(c=Sum("amount"))["c"] or 0
        room = transfer.amount - planned
        take = min(room, cents)
        if take > 0:
            Recovery.objects.create(payout=row, transfer=transfer, amount=take)
            cents -= take
        if not cents:
            return
    # Nothing sent left to reverse: a debt on future earnings.
    Recovery.objects.create(payout=row, amount=cents, status=RecoveryStatus.DEBT)
