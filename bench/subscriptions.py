#!/usr/bin/env python
"""Subscription renewal benchmark: a million subscriptions renewed at once.

    .venv/bin/python bench/subscriptions.py --subscriptions 1000000

Creates a scratch database (``flattr_bench_subscriptions`` on DATABASE_URL's
server), migrates it, loads supporters (two subscriptions each, 1% with an
empty wallet), things and subscriptions with set-based SQL, then times:

- ``lower_bound``: ``CREATE TABLE ... AS SELECT supporter_id, thing_id`` of
  every subscription, the least work that writes one row per subscription;
- ``insert_bound``: the same rows INSERTed into ``buttons_flattr`` (its
  indexes and foreign keys included), rolled back: the floor for this table;
- ``renew``: ``subscriptions_renew`` (one CTE statement that inserts the
  flattrs and updates the subscriptions, plus the skip statement and its
  notices);
- ``renew_again``: the same call once more (idempotent: nothing to do).

Prints one JSON object. The scratch database is dropped at the end unless
``--keep`` is given. Never run as a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds scripts named like stdlib modules (http.py): keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_subscriptions")
sys.path.insert(0, str(ROOT))

from bench._common import recreate_database, with_database  # noqa: E402


def _load(cursor, *, subscriptions: int, things: int, period: dt.date) -> None:
    supporters = (subscriptions + 1) // 2
    creators = max(things // 5, 1)
    users = supporters + creators
    cursor.execute(
        """
        INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff,
               is_active, date_joined, email, username, display_name, bio, website,
               monthly_budget_cents, flattrs_public)
        SELECT i, '!', false, '', '', false, true, now(), 'u' || i || '@bench.example',
               'u' || i, '', '', '', 200, false
          FROM generate_series(1, %(users)s) i
        """,
        {"users": users},
    )
    cursor.execute(
        """
        INSERT INTO buttons_thing (id, owner_id, url, title, description, category, tags,
               language, hidden, removed, unlisted, created_at)
        SELECT i, %(supporters)s + 1 + i %% %(creators)s, 'https://bench.example/t/' || i,
               'Thing ' || i, '', 'text', '', '', false, false, false, now()
          FROM generate_series(1, %(things)s) i
        """,
        {"supporters": supporters, "creators": creators, "things": things},
    )
    cursor.execute(
        """
        INSERT INTO buttons_subscription (supporter_id, thing_id, months, months_remaining,
               last_period, status, created_at, updated_at)
        SELECT s, 1 + (s * 7919 + j * 4729) %% %(things)s, 12, 11,
               (%(period)s::date - interval '1 month')::date, 'active', now(), now()
          FROM generate_series(1::bigint, %(supporters)s) s, generate_series(0, 1) j
         WHERE (s - 1) * 2 + j < %(n)s
        """,
        {"things": things, "supporters": supporters, "period": period, "n": subscriptions},
    )
    # Wallets funded by one balanced top-up (1% stay empty), so balances are
    # what the ledger's own triggers computed.
    cursor.execute(
        """
        INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
        SELECT 'wallet', i, '', 0, now() FROM generate_series(1, %(supporters)s) i
        """,
        {"supporters": supporters},
    )
    cursor.execute(
        """
        INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
        VALUES ('outside', NULL, '', 0, now()) ON CONFLICT DO NOTHING
        """
    )
    cursor.execute(
        """
        WITH t AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            VALUES ('topup', 'bench:topup', 'Benchmark top-ups', now()) RETURNING id
        ),
        amounts AS (
            SELECT id AS account_id, 1000 AS cents FROM ledger_account
             WHERE kind = 'wallet' AND user_id % 100 <> 0
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT t.id, account_id, cents FROM t, amounts
        UNION ALL
        SELECT t.id, o.id, -(SELECT sum(cents) FROM amounts)
          FROM t, ledger_account o WHERE o.kind = 'outside' AND o.user_id IS NULL
        """
    )
    cursor.execute("ANALYZE")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--things", type=int, default=None, help="default 100,000 (capped)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    n = args.subscriptions
    things = args.things or max(min(100_000, n // 10), 3)

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flattr")
    url = with_database(base_url, SCRATCH)
    recreate_database(base_url, SCRATCH)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    # A scratch database on a developer machine: no production SECRET_KEY.
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from buttons.renewal import subscriptions_renew
    from buttons.services import period_of
    from flattr_site.celery import app

    # Notices are published, not sent: no worker is running here.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"

    timings: dict[str, float] = {}
    try:
        call_command("migrate", verbosity=0)
        now = timezone.now()
        period = period_of(now)
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            _load(cursor, subscriptions=n, things=things, period=period)
        timings["load_s"] = time.perf_counter() - t0
        with connection.cursor() as cursor:
            t0 = time.perf_counter()
            cursor.execute(
                "CREATE TABLE bench_lower_bound AS"
                " SELECT supporter_id, thing_id FROM buttons_subscription"
            )
            timings["lower_bound_s"] = time.perf_counter() - t0
            cursor.execute("DROP TABLE bench_lower_bound")
        # The floor with the real table: the same rows into buttons_flattr,
        # with its indexes and foreign keys, rolled back.
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys checked now, as the renewal's commit checks them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            t0 = time.perf_counter()
            cursor.execute(
                "INSERT INTO buttons_flattr (supporter_id, thing_id, period, created_at, source)"
                " SELECT supporter_id, thing_id, %s, now(), 'subscription'"
                " FROM buttons_subscription",
                [period.replace(year=period.year + 1)],
            )
            timings["insert_bound_s"] = time.perf_counter() - t0
            transaction.set_rollback(True)
        t0 = time.perf_counter()
        first = subscriptions_renew(now=now)
        timings["renew_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = subscriptions_renew(now=now)
        timings["renew_again_s"] = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM buttons_flattr WHERE source = 'subscription'")
            flattrs = cursor.fetchone()[0]
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(base_url, SCRATCH, drop_only=True)
    result = {
        "subscriptions": n,
        "things": things,
        "first_run": first,
        "second_run": again,
        "flattrs_in_table": flattrs,
        **{k: round(v, 3) for k, v in timings.items()},
        "renew_vs_lower_bound": round(timings["renew_s"] / timings["lower_bound_s"], 2),
        "renew_vs_insert_bound": round(timings["renew_s"] / timings["insert_bound_s"], 2),
    }
    print(json.dumps(result, indent=2))  # noqa: T201
    return result


if __name__ == "__main__":
    main()
