"""PostgreSQL settings of the payday statements, in one place.

Every setting the compute and the posting change is listed here with what
it protects; ``planner`` applies a set of them (``SET LOCAL``: they never
outlive the transaction) and, on leaving, puts back what was set before, so
each step of the compute states the plan it needs and nothing leaks into
the next one. docs/scaling.md says how each plan was measured.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.db.backends.utils import CursorWrapper

# Every payday transaction (compute, and each posting chunk or finish).
PAYDAY: Mapping[str, str] = {
    # Sorts and hashes of millions of rows stay in memory.
    "work_mem": "512MB",
    # The prepared tables' indexes are built in memory.
    "maintenance_work_mem": "512MB",
    # A crash loses the transaction either way; the commit need not wait
    # for the WAL flush (nothing is acknowledged to anyone before it).
    "synchronous_commit": "off",
    # Compiling these statements costs more than it saves (and the split's
    # settings below would make it compile them fully).
    "jit": "off",
}

# The compute, over PAYDAY.
COMPUTE: Mapping[str, str] = {
    # The hashes of the lines step (thing lines, about one per thing) and
    # of the excluded flattrs fit in memory.
    "work_mem": "2GB",
    # The small prepared tables are hashed, never looped over row by row
    # with index lookups (which the planner picks on freshly made tables).
    "enable_nestloop": "off",
}

# Excluded flattrs: index lookups from the things (few rows), over COMPUTE.
EXCLUDED: Mapping[str, str] = {
    # A nested loop from each thing into the flattrs index, rather than
    # hashing the whole month's flattrs to find a few per cent of them.
    "enable_nestloop": "on",
}


def split_settings(branches: int) -> dict[str, str]:
    """The split, over COMPUTE: its ``branches`` side by side."""
    return {
        # One parallel worker per branch of the Parallel Append (the leader
        # takes one too).
        "max_parallel_workers_per_gather": str(branches),
        # Starting workers and passing their rows up is cheap next to the
        # split of a range: never a reason to plan it serially.
        "parallel_setup_cost": "0",
        "parallel_tuple_cost": "0",
        # The branches' rows are not needed in order: a Gather, not a
        # Gather Merge (which would sort each branch's output).
        "enable_gathermerge": "off",
        # Each range's flattrs and eligible supporters both come in
        # supporter order: a merge join, not a hash of either side.
        "enable_hashjoin": "off",
        # The month's flattrs come in (supporter, time, id) order from their
        # covering index; a sort of them is what this plan exists to avoid.
        "enable_sort": "off",
        # The excluded flattrs' hashed filter and the unnest of each
        # supporter's array are nested loops.
        "enable_nestloop": "on",
    }


# A posting chunk, over PAYDAY.
POSTING_CHUNK: Mapping[str, str] = {
    # The deferred foreign-key checks at commit look each posting's
    # transaction up by primary key, with a plan PostgreSQL keeps for the
    # session. Planned while ledger_transaction was small (a first month: a
    # handful of rows), it is a sequential scan, which a creators' chunk
    # then runs once per posting over its thousands of new transactions
    # (42 s of 97 at 1M supporters). A chunk needs no sequential scan of a
    # real table: its statements are key lookups and scans of its own
    # temporary tables.
    "enable_seqscan": "off",
}


@contextmanager
def planner(
    cursor: CursorWrapper, *layers: Mapping[str, str], restore: bool = True
) -> Iterator[None]:
    """Apply ``layers`` of settings (later ones win) to the statements of
    the block, then put each back as it was. ``restore=False`` leaves them
    to the end of the transaction: a transaction's own settings (PAYDAY),
    which its commit reads too (``synchronous_commit``). After an error
    nothing is put back: the transaction is rolled back, its settings with it."""
    settings: dict[str, str] = {}
    for layer in layers:
        settings.update(layer)
    names, values = list(settings), list(settings.values())
    before: list[str] = []
    if restore:
        cursor.execute(
            "SELECT current_setting(n) FROM unnest(%s::text[]) WITH ORDINALITY u(n, i) ORDER BY i",
            [names],
        )
        before = [row[0] for row in cursor.fetchall()]
    _set(cursor, names, values)
    yield
    if restore:
        _set(cursor, names, before)


def _set(cursor: CursorWrapper, names: list[str], values: list[str]) -> None:
    """``SET LOCAL`` each name to its value, in one statement."""
    cursor.execute(
        "SELECT set_config(n, v, true) FROM unnest(%s::text[], %s::text[]) u(n, v)",
        [names, values],
    )
