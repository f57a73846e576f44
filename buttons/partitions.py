"""The month partitions of ``buttons_flattr`` (docs/operations.md, "Flattrs
by month").

The table is partitioned by ``period``; the database function
``buttons_flattr_partitions_ensure`` (buttons/sql/functions/) makes the
partitions from last month to three months ahead and gives its own partition
to any month whose flattrs fell into the DEFAULT one. The beat task calls
this daily; a flattr never waits for it (the DEFAULT partition takes a month
nobody made).
"""

from __future__ import annotations

from django.db import connection, transaction


def flattr_partitions_ensure() -> int:
    """Make the month partitions that are missing; returns how many were
    made (0 when all exist). One transaction, no session state: safe behind
    PgBouncer in transaction mode and from several workers at once (the
    function takes a transaction-level advisory lock)."""
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SELECT buttons_flattr_partitions_ensure()")
        return int(cursor.fetchone()[0])
