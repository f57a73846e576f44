from collections.abc import Iterator

from django.db.models import QuerySet

from payouts.models import CreatorLine, PayoutRun
from payouts.split import shares_cents


def payout_report_totals(*, run: PayoutRun) -> dict:
    """The run's head and totals (stored on the run row, no counting)."""
    return {
        "period": run.label,
        "status": run.status,
        "totals": {
            "supporters": run.supporters,
            "flattrs": run.flattrs,
            "taken": run.taken,
            "gross": run.gross,
            "fee": run.fee,
            "net": run.net,
            "unclaimed": run.unclaimed,
            "charity": run.charity,
        },
    }


def payout_report_supporters(*, run: PayoutRun) -> Iterator[dict]:
    """Supporter lines, streamed from a server-side cursor (a million lines
    never sit in memory at once)."""
    rows = (
        run.supporter_lines.order_by("supporter__username")
        .values_list("supporter__username", "supporter__email", "taken", "flattrs")
        .iterator(chunk_size=10_000)
    )
    for username, email, taken, flattrs in rows:
        yield {"username": username, "email": email, "taken": taken, "flattrs": flattrs}


def payout_report_creators(*, run: PayoutRun) -> Iterator[dict]:
    rows = (
        run.creator_lines.order_by("creator__username")
        .values_list("creator__username", "gross", "fee", "net", "flattrs")
        .iterator(chunk_size=10_000)
    )
    for username, gross, fee, net, flattrs in rows:
        yield {"username": username, "gross": gross, "fee": fee, "net": net, "flattrs": flattrs}


CSV_HEADER = [
    "role",
    "username",
    "email",
    "budget",
    "balance",
    "taken",
    "charity",
    "gross",
    "fee",
    "net",
    "flattrs",
]


def payout_report_rows(
    *, run: PayoutRun, roles: tuple[str, ...] = ("supporter", "creator")
) -> Iterator[list]:
    """The run's lines as CSV rows, header first, streamed: the one shape of
    ``payout_report --format csv`` and the admin's exports."""
    yield CSV_HEADER
    if "supporter" in roles:
        rows = (
            run.supporter_lines.order_by("supporter__username")
            .values_list(
                "supporter__username",
                "supporter__email",
                "budget",
                "balance",
                "taken",
                "charity",
                "flattrs",
            )
            .iterator(chunk_size=10_000)
        )
        for username, email, budget, balance, taken, charity, flattrs in rows:
            yield [
                "supporter",
                username,
                email,
                budget,
                balance,
                taken,
                charity,
                "",
                "",
                "",
                flattrs,
            ]
    if "creator" in roles:
        rows = (
            run.creator_lines.order_by("creator__username")
            .values_list("creator__username", "creator__email", "gross", "fee", "net", "flattrs")
            .iterator(chunk_size=10_000)
        )
        for username, email, gross, fee, net, flattrs in rows:
            yield ["creator", username, email, "", "", "", "", gross, fee, net, flattrs]


def payout_report(*, run: PayoutRun) -> dict:
    """The run's figures in the shape of ``payout_report --format json``
    (whole, for small runs and tests; the command streams the same shape)."""
    return {
        **payout_report_totals(run=run),
        "supporters": list(payout_report_supporters(run=run)),
        "creators": list(payout_report_creators(run=run)),
    }


def top_creators(*, run: PayoutRun, limit: int = 10) -> QuerySet[CreatorLine]:
    return run.creator_lines.select_related("creator").order_by("-gross")[:limit]


def suspicious_creators(*, run: PayoutRun, limit: int = 10) -> list[dict]:
    """Creators most of whose flattrs came from accounts created that month.

    Starts from the month's new accounts (few) and reads only their shares
    through the (run, supporter) index; each creator's total is on their
    line, so the run's millions of shares are never aggregated."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.creator_id, u.username, cl.flattrs, count(*) AS from_new
              FROM accounts_user su
              JOIN payouts_share s ON s.run_id = %(run)s AND s.supporter_id = su.id
              JOIN payouts_creatorline cl ON cl.run_id = %(run)s AND cl.creator_id = s.creator_id
              JOIN accounts_user u ON u.id = s.creator_id
             WHERE su.date_joined >= %(start)s
             GROUP BY s.creator_id, u.username, cl.flattrs
            HAVING cl.flattrs >= 3 AND count(*) * 2 > cl.flattrs
             ORDER BY from_new DESC, s.creator_id
             LIMIT %(limit)s
            """,
            {"run": run.pk, "start": run.period, "limit": limit},
        )
        return [
            {"creator_id": r[0], "username": r[1], "flattrs": r[2], "from_new_accounts": r[3]}
            for r in cursor.fetchall()
        ]


def supporter_months(*, user, limit: int = 12) -> list[dict]:
    """A supporter's posted months, newest first: amount taken and where
    each share went (thing, creator, cents)."""
    from buttons.models import Thing
    from payouts.models import RunStatus, Share, SupporterLine

    lines = list(
        SupporterLine.objects.filter(supporter=user, run__status=RunStatus.POSTED)
        .select_related("run")
        .order_by("-run__period")[:limit]
    )
    months = []
    for line in lines:
        shares = list(
            Share.objects.filter(run_id=line.run_id, supporter_id=user.pk).order_by("-amount")
        )
        things = Thing.objects.select_related("owner").in_bulk([s.thing_id for s in shares])
        months.append(
            {
                "period": line.run.period,
                "taken": line.taken,
                "charity": line.charity,
                "shares": [
                    {"thing": things.get(s.thing_id), "amount": s.amount, "claimed": s.creator_id}
                    for s in shares
                ],
            }
        )
    return months


def supporter_month_preview(*, user) -> dict:
    """If the month ended now: the same rules as the split, for one person."""
    from buttons.models import Flattr
    from ledger import selectors as ledger_selectors
    from payouts.services.compute import current_period

    period = current_period()
    flattrs = list(
        Flattr.objects.filter(supporter=user, period=period, thing__hidden=False)
        .filter(thing__removed=False)
        .exclude(thing__owner=user)
        .select_related("thing")
        .order_by("created_at", "id")
    )
    owes = ledger_selectors.receivable_owed(user=user) > 0
    wallet = ledger_selectors.wallet_balance(user=user)
    amount = 0 if owes else max(0, min(user.monthly_budget_cents, wallet))
    n = len(flattrs)
    shares = shares_cents(amount=amount, n=n) if n else []
    return {
        "period": period,
        "amount": amount,
        "owes": owes,
        "count": n,
        "each": amount // n if n else 0,
        "shares": [
            {"thing": f.thing, "amount": cents} for f, cents in zip(flattrs, shares, strict=True)
        ],
    }
