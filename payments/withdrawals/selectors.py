"""Reads for the earnings page: monthly figures from the ledger itself."""

import datetime as dt

from django.db import connection

from accounts.models import User
from ledger.models import Account, AccountKind, TransactionKind


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def monthly_earnings(*, user: User, months: int = 12, today: dt.date | None = None) -> list[dict]:
    """Gross, fee, net, passed on and received onward per month for the
    last ``months`` closed months (cents).

    Each posted payout credits a creator in transactions whose typed
    reference is the payout run and its period (earnings +net, platform
    fees +fee). Onward shares are posted by the same run as transactions
    of their own, keyed ``payout:<YYYY-MM>:onward:<giver id>`` (the giver's
    earnings -onward_out, each receiver's earnings +their share): read
    apart, so that ``net`` stays what flattrs gave (gross less fee, the
    amount the month's statement commits) and what the month left in the
    earnings account is ``net - passed_on + received_onward``.
    """
    today = today or dt.date.today()
    last = _add_months(today.replace(day=1), -1)
    periods = [_add_months(last, -i) for i in range(months - 1, -1, -1)]
    figures = {p.strftime("%Y-%m"): [0, 0, 0, 0] for p in periods}
    earnings = Account.objects.filter(user=user, kind=AccountKind.EARNINGS).first()
    fees = Account.objects.filter(user__isnull=True, kind=AccountKind.PLATFORM_FEES, ref="").first()
    if earnings is not None:
        with connection.cursor() as cursor:
            # One row per transaction first (its legs on the user's earnings
            # summed: a giver may pass on to a creator and to one of their
            # things, two legs to the same receiver), then per month.
            cursor.execute(
                """
                WITH per_transaction AS (
                    SELECT to_char(t.period, 'YYYY-MM') AS month,
                           t.idempotency_key LIKE %(onward)s AS onward,
                           sum(pe.amount) AS amount,
                           (SELECT coalesce(sum(pf.amount), 0) FROM ledger_posting pf
                             WHERE pf.transaction_id = t.id AND pf.account_id = %(fees)s) AS fee
                      FROM ledger_posting pe
                      JOIN ledger_transaction t ON t.id = pe.transaction_id
                     WHERE pe.account_id = %(earnings)s
                       AND t.kind IN (%(payout)s, %(claim)s)
                       AND t.source = %(source)s
                     GROUP BY t.id
                )
                SELECT month,
                       coalesce(sum(amount) FILTER (WHERE NOT onward), 0)::bigint,
                       coalesce(sum(fee) FILTER (WHERE NOT onward), 0)::bigint,
                       coalesce(-sum(amount) FILTER (WHERE onward AND amount < 0), 0)::bigint,
                       coalesce(sum(amount) FILTER (WHERE onward AND amount > 0), 0)::bigint
                  FROM per_transaction
                 GROUP BY 1
                """,
                {
                    "earnings": earnings.pk,
                    "fees": fees.pk if fees else None,
                    "payout": TransactionKind.PAYOUT,
                    "claim": TransactionKind.UNCLAIMED_CLAIM,
                    "source": "payouts.payoutrun",
                    "onward": "payout:%:onward:%",
                },
            )
            for month, net, fee, passed_on, received in cursor.fetchall():
                if month in figures:
                    row = figures[month]
                    row[0] += net
                    row[1] += fee
                    row[2] += passed_on
                    row[3] += received
    # "month" is the id (URLs, CSV); "period" the date pages format.
    return [
        {
            "month": month,
            "period": period,
            "net": net,
            "fee": fee,
            "gross": net + fee,
            "passed_on": passed_on,
            "received_onward": received,
        }
        for period, (month, (net, fee, passed_on, received)) in zip(
            periods, figures.items(), strict=True
        )
    ]


def chart(*, rows: list[dict], width: int = 720, height: int = 240) -> dict:
    """Bar geometry for the server-side SVG chart (gross = fee + net, stacked),
    drawn at its own size (labels stay 12 px; a phone scrolls it sideways)
    with each month's net written above its bar."""
    top = max([row["gross"] for row in rows] + [1])
    plot_h = height - 60
    slot = width / max(len(rows), 1)
    bars = []
    for i, row in enumerate(rows):
        net_h = round(plot_h * row["net"] / top)
        fee_h = round(plot_h * row["fee"] / top)
        x = round(i * slot + slot * 0.15)
        bars.append(
            {
                **row,
                "x": x,
                "w": round(slot * 0.7),
                "net_y": plot_h - net_h + 30,
                "net_h": net_h,
                "fee_y": plot_h - net_h - fee_h + 30,
                "amount_y": plot_h - net_h - fee_h + 25,
                "amount": f"{row['net'] // 100}.{row['net'] % 100:02d}" if row["net"] else "",
                "fee_h": fee_h,
                "label_x": round(i * slot + slot / 2),
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": height,
        "base_y": plot_h + 30,
        "label_y": height - 8,
    }
