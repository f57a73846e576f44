"""The month's run reads its month's partition of flattrs only (buttons
migration 0009): every statement that computing, approving and posting a
run send about flattrs is EXPLAINed, in its transaction, just before it
runs, and reads no other partition of ``buttons_flattr``.

A statement that creates a table is EXPLAINed without running it: its plan
must name the month's partition alone (pruned when planning). A plain
``SELECT`` is EXPLAINed with ANALYZE (it only reads): the partitions whose
scans ran count, so a lookup keyed by another run's month (four eyes looks
for holdings the approver flattred, by ``run.period``) is pruned at run time
and never opens the other months."""

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.db import connection

from buttons.partitions import flattr_partitions_ensure
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P, compute, post

pytestmark = pytest.mark.django_db

EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "CREATE")


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


class FlattrReads:
    """An execute wrapper: the partitions of buttons_flattr each statement
    that names the table plans to read."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, set[str]]] = []

    def __call__(self, execute, sql, params, many, context):
        text = sql.lstrip().upper()
        if "BUTTONS_FLATTR" in text and not many and text.startswith(EXPLAINABLE):
            raw = context["cursor"].cursor
            analyze = text.startswith("SELECT")
            raw.execute(f"EXPLAIN (FORMAT JSON, ANALYZE {analyze}) " + sql, params)
            found = raw.fetchone()[0]
            plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
            read = {
                node["Relation Name"]
                for node in _nodes(plan)
                if node.get("Relation Name", "").startswith("buttons_flattr")
                and (not analyze or node.get("Actual Loops", 0) > 0)
            }
            self.statements.append((sql, read))
        return execute(sql, params, many, context)


def test_computing_and_posting_a_month_read_its_partition_alone(admin_user):
    creator = UserFactory()
    things = [thing(owner=creator) for _ in range(3)] + [thing(owner=None), thing(hidden=True)]
    fans = [supporter(budget=100 + i, balance=1000) for i in range(6)]
    for month in (dt.date(2026, 7, 1), dt.date(2026, 8, 1), P, dt.date(2026, 10, 1)):
        for i, fan in enumerate(fans):
            for j in range(3):
                flattr(fan, things[(i + j) % len(things)], month, minute=j)
    flattr(creator, things[0], P)  # one's own
    flattr_partitions_ensure()

    reads = FlattrReads()
    with connection.execute_wrapper(reads):
        run = compute()
        post(run, admin_user)
    run.refresh_from_db()
    assert run.status == "posted"
    assert run.flattrs == 6 * 3 - 3  # the hidden thing's three flattrs do not count

    assert reads.statements, "the run read no flattrs"
    for sql, read in reads.statements:
        assert read <= {"buttons_flattr_2026_09"}, sql
    # The split's two statements (excluded flattrs, the split) read it.
    assert sum(read == {"buttons_flattr_2026_09"} for _sql, read in reads.statements) >= 2
