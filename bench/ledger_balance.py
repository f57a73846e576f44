#!/usr/bin/env python
"""Ledger read benchmark: one wallet with a million postings.

    .venv/bin/python bench/ledger_balance.py [--postings 1000000] [--keep]

Creates a scratch database (``flattr_bench_ledger`` on DATABASE_URL's
server), migrates it, and posts ``--postings`` balanced transactions of two
legs each (the wallet and the outside world) with one ``INSERT ... SELECT``
per table, so the wallet ends with that many postings. Every database rule
stays on during the load (the balance trigger, the zero-sum check at commit,
the non-negative checks); ``ledger_problems()`` then verifies the whole
ledger (and is timed).

Then times, in one process (median of ``--repeat`` runs after one warm-up):

- ``wallet_balance``: ``ledger.selectors.wallet_balance(user=...)``;
- ``statement_first_page``: ``statement_page(account=..., page=1)`` evaluated;
- ``statement_page_100``: the same for page 100;
- ``count_all_postings_of_wallet``: what a counting paginator would pay
  on every page view (for comparison);
- ``balance_from_postings``: ``sum(amount)`` over the wallet's postings, what
  a ledger without a stored balance would pay on every read.

Prints one JSON object. The scratch database is dropped at the end unless
``--keep`` is given. Never run as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path; other benchmarks here
# (bench/http.py) must not shadow the standard library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_ledger")
sys.path.insert(0, str(ROOT))

from bench._common import recreate_database, with_database  # noqa: E402


def _timed(fn, repeat: int) -> dict[str, float]:
    fn()  # warm-up: plans and buffers
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(runs), 3), "max_ms": round(max(runs), 3)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    n = args.postings

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flattr")
    recreate_database(base_url, SCRATCH)
    os.environ["DATABASE_URL"] = with_database(base_url, SCRATCH)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from ledger import selectors, services
    from ledger.models import AccountKind

    result: dict = {"postings_on_wallet": n}
    try:
        call_command("migrate", verbosity=0)
        user = User.objects.create(email="bench@bench.example", username="bench")
        wallet = services.wallet_account(user=user)
        outside = services.platform_account(kind=AccountKind.OUTSIDE)

        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
                SELECT CASE WHEN i %% 10 = 0 THEN 'payout' ELSE 'topup' END, 'bench:' || i, '',
                       now() - (%s - i) * interval '1 second'
                  FROM generate_series(1, %s) i
                """,
                [n, n],
            )
            # Every tenth transaction spends 1 cent; the others credit
            # 1..500 cents. Legs of one transaction are adjacent.
            cursor.execute(
                """
                INSERT INTO ledger_posting (transaction_id, account_id, amount)
                SELECT t.id, leg.account_id, leg.amount
                  FROM (SELECT id, CASE WHEN id %% 10 = 0 THEN -1 ELSE 1 + id %% 500 END AS cents
                          FROM ledger_transaction WHERE idempotency_key LIKE 'bench:%%') t
                 CROSS JOIN LATERAL (VALUES (%s, t.cents), (%s, -t.cents))
                       AS leg(account_id, amount)
                 ORDER BY t.id
                """,
                [wallet.pk, outside.pk],
            )
        result["load_s"] = round(time.perf_counter() - t0, 2)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ledger_posting")
            cursor.execute("VACUUM ANALYZE ledger_transaction")
            cursor.execute("VACUUM ANALYZE ledger_account")

        t0 = time.perf_counter()
        problems = selectors.ledger_problems()
        result["ledger_problems_s"] = round(time.perf_counter() - t0, 2)
        result["ledger_problems"] = problems
        result["wallet_balance_cents"] = selectors.wallet_balance(user=user)

        def statement(page):
            return lambda: [
                p.transaction.kind for p in selectors.statement_page(account=wallet, page=page)
            ]

        def sql(query):
            def run():
                with connection.cursor() as cursor:
                    cursor.execute(query, [wallet.pk])
                    cursor.fetchone()

            return run

        result["timings"] = {
            "wallet_balance": _timed(lambda: selectors.wallet_balance(user=user), args.repeat),
            "statement_first_page": _timed(statement(1), args.repeat),
            "statement_page_100": _timed(statement(100), args.repeat),
            "count_all_postings_of_wallet": _timed(
                sql("SELECT count(*) FROM ledger_posting WHERE account_id = %s"), args.repeat
            ),
            "balance_from_postings": _timed(
                sql("SELECT sum(amount) FROM ledger_posting WHERE account_id = %s"), args.repeat
            ),
        }
    finally:
        connection.close()
        if not args.keep:
            recreate_database(base_url, SCRATCH, drop_only=True)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
