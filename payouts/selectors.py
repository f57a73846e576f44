from django.db.models import QuerySet

from payouts.models import CreatorLine, PayoutRun


def payout_report(*, run: PayoutRun) -> dict:
    """The run's figures in the shape of ``payout_report --format json``."""
    supporters = run.supporter_lines.select_related("supporter").order_by("supporter__username")
    creators = run.creator_lines.select_related("creator").order_by("creator__username")
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
        "supporters": [
            {
                "username": line.supporter.username,
                "email": line.supporter.email,
                "taken": line.taken,
                "flattrs": line.flattrs,
            }
            for line in supporters.iterator(chunk_size=5000)
        ],
        "creators": [
            {
                "username": line.creator.username,
                "gross": line.gross,
                "fee": line.fee,
                "net": line.net,
                "flattrs": line.flattrs,
            }
            for line in creators.iterator(chunk_size=5000)
        ],
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
