from collections.abc import Iterator

from django.db.models import QuerySet

from payouts.models import CreatorLine, PayoutRun


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
    """Creators most of whose flattrs came from accounts created that month."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.creator_id, u.username, count(*) AS flattrs,
                   count(*) FILTER (WHERE su.date_joined >= %(start)s) AS from_new
              FROM payouts_share s
              JOIN accounts_user su ON su.id = s.supporter_id
              JOIN accounts_user u ON u.id = s.creator_id
             WHERE s.run_id = %(run)s AND s.creator_id IS NOT NULL
             GROUP BY s.creator_id, u.username
            HAVING count(*) >= 3
               AND count(*) FILTER (WHERE su.date_joined >= %(start)s) * 2 > count(*)
             ORDER BY from_new DESC
             LIMIT %(limit)s
            """,
            {"run": run.pk, "start": run.period, "limit": limit},
        )
        return [
            {"creator_id": r[0], "username": r[1], "flattrs": r[2], "from_new_accounts": r[3]}
            for r in cursor.fetchall()
        ]
