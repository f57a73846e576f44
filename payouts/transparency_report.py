"""The month figures, CSV/JSON rows and chart shown on /transparency/, read
from posted runs and their commitments (the Merkle tree itself is
``payouts/transparency.py``)."""

from __future__ import annotations

from django.db import connection

from payouts.models import PayoutRun, RunCommitment

MONTH_FIELDS = [
    "period",
    "supporters_gave",
    "creators_paid",
    "things_flattred",
    "flattrs",
    "taken",
    "fee",
    "paid_to_creators",
    "held_unclaimed",
    "returned",
    "charity",
    "withdrawals_paid",
    "root",
    "previous_root",
    "previous_period",
    "merkle_root",
    "leaves",
    # Added last, so consumers reading the columns by position keep working.
    "passed_on",
]


def _withdrawals_paid_by_month(timezone_name: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT to_char(t.created_at AT TIME ZONE %s, 'YYYY-MM'), sum(p.amount)::bigint
              FROM ledger_transaction t
              JOIN ledger_posting p ON p.transaction_id = t.id
              JOIN ledger_account a ON a.id = p.account_id AND a.kind = 'outside'
             WHERE t.kind = 'withdrawal_paid'
             GROUP BY 1
            """,
            [timezone_name],
        )
        return dict(cursor.fetchall())


def transparency_months() -> list[dict]:
    """Platform totals per posted month, newest first (amounts in cents)."""
    from django.conf import settings

    from payouts.models import RunStatus

    withdrawals = _withdrawals_paid_by_month(settings.PAYOUT_TIMEZONE)
    commitments = {c.run_id: c for c in RunCommitment.objects.all()}
    # The chain follows posting order: the month each root chains to.
    period_of_root = {c.root: f"{c.period:%Y-%m}" for c in commitments.values()}
    months = []
    for run in PayoutRun.objects.filter(status=RunStatus.POSTED).order_by("-period"):
        commitment = commitments.get(run.pk)
        figures = commitment.figures if commitment else {}
        months.append(
            {
                "period": run.label,
                "supporters_gave": figures.get("supporters_gave", run.supporters),
                "creators_paid": run.creators,
                "things_flattred": figures.get("things_flattred"),
                "flattrs": run.flattrs,
                "taken": run.taken,
                "fee": run.fee + run.claimed_fee,
                # Credited to creators: what they kept and received onward
                # (onward shares held for unclaimed things are counted in
                # held_unclaimed, once) and holdings claimed, less its fee.
                "paid_to_creators": run.net
                - (run.onward - run.onward_received)
                + run.claimed_gross
                - run.claimed_fee,
                "held_unclaimed": run.unclaimed,
                "returned": run.returned,
                "charity": run.charity,
                "withdrawals_paid": withdrawals.get(run.label, 0),
                "root": commitment.root if commitment else "",
                "previous_root": commitment.previous_root if commitment else "",
                "previous_period": period_of_root.get(commitment.previous_root, "")
                if commitment
                else "",
                "merkle_root": commitment.merkle_root if commitment else "",
                "leaves": commitment.leaves if commitment else None,
                # Cents creators passed on of their net (onward shares),
                # inside paid_to_creators and held_unclaimed, not on top.
                "passed_on": run.onward,
            }
        )
    return months


def transparency_chart(*, months: list[dict], width: int = 640, height: int = 220) -> dict:
    """Geometry of a stacked bar chart (paid to creators, fees, held,
    charity) per month, oldest left, for a server-side SVG."""
    shown = list(reversed(months[:12]))
    top = max([m["taken"] for m in shown] + [1])
    left, bottom = 8, 20
    slot = (width - left) / max(len(shown), 1)
    bar = max(min(slot * 0.6, 48), 4)
    parts = [
        ("paid_to_creators", "net"),
        ("fee", "fee"),
        ("held_unclaimed", "held"),
        ("charity", "charity"),
    ]
    bars = []
    for i, month in enumerate(shown):
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom
        rects = []
        for field, css in parts:
            h = (height - bottom - 8) * month[field] / top
            if h > 0:
                y -= h
                rects.append({"y": round(y, 1), "h": round(h, 1), "css": css, "field": field})
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar, 1),
                "label_x": round(x + bar / 2, 1),
                "period": month["period"],
                "rects": rects,
                "taken": month["taken"],
            }
        )
    return {"width": width, "height": height, "bars": bars, "baseline": height - bottom}
