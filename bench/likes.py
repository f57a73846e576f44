#!/usr/bin/env python
"""Connected accounts benchmark: 10,000 GitHub accounts with 50 new stars each.

    .venv/bin/python bench/likes.py --accounts 10000 --likes 50

Creates a scratch database (``flattr_bench_likes`` on DATABASE_URL's
server), migrates it, loads supporters with funded wallets, creators with
things (half of every account's stars are on those existing things, half on
repositories nobody registered yet) and one connected GitHub account per
supporter (tokens encrypted as in production). A local HTTP server in its
own process answers ``GET /user/starred`` as GitHub documents it (the
star+json media type, ``Link``, ``X-RateLimit-*``), ``--likes`` stars a
token. Then every account is polled once, in this process, through the
production code (``likes.polling.account_poll``: the safe fetcher, the
likes recorded, flattrs made by ``buttons.services.flattrs_create_many``).

Measures likes per second and accounts per second, the database queries of
each account's poll (counted for every poll; their spread shows they do not
depend on the likes: a first round of accounts with ``--likes-small`` stars
is counted the same way), and the process's resident memory at each tenth
of the run (flat: nothing accumulates per account).

Prints one JSON object. The scratch database is dropped at the end unless
``--keep`` is given. Never run as a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds scripts named like stdlib modules (http.py): keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_likes")
sys.path.insert(0, str(ROOT))

from bench._common import free_port, recreate_database, wait_for_port, with_database  # noqa: E402

SHARED_REPOS = 5000


def _serve(port: int, likes: int, small: int) -> None:
    """A GitHub stand-in: token ``bench-<n>`` (or ``small-<n>``) has
    ``likes`` (``small``) stars, half on shared repositories."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    now = time.time()

    def stars(kind: str, n: int) -> list[dict]:
        count = likes if kind == "bench" else small
        items = []
        for j in range(count):
            if j % 2 == 0:
                repo_id = 1 + (n * 31 + j) % SHARED_REPOS
                url = f"https://github.com/shared{repo_id}/repo"
            else:
                repo_id = 10_000_000 + n * 1000 + j
                url = f"https://github.com/{kind}{n}/repo{j}"
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60 - j))
            items.append(
                {
                    "starred_at": at,
                    "repo": {"id": repo_id, "full_name": url[19:], "html_url": url},
                }
            )
        return items

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            token = (self.headers.get("Authorization") or "").partition(" ")[2]
            kind, _, n = token.partition("-")
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            body = json.dumps(stars(kind, int(n)) if page == 1 and n.isdigit() else []).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Limit", "5000")
            self.send_header("X-RateLimit-Remaining", "4999")
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _load(*, accounts: int, small: int, api_url: str) -> tuple[list[int], list[int]]:
    """Users, wallets, creators' things and connected accounts; returns the
    ids of the small accounts and of the main ones."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from likes.models import AccountKind, ConnectedAccount

    supporters = accounts + small
    creators = 100
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name,
                   is_staff, is_active, date_joined, email, username, display_name, bio,
                   website, monthly_budget_cents, flattrs_public)
            SELECT i, '!', false, '', '', false, true, now(), 'u' || i || '@bench.example',
                   'u' || i, '', '', '', 200, false
              FROM generate_series(1, %(users)s) i
            """,
            {"users": supporters + creators},
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %s)",
            [supporters + creators],
        )
        cursor.execute(
            """
            INSERT INTO buttons_thing (owner_id, url, title, description, category, tags,
                   language, hidden, removed, unlisted, pending, created_at)
            SELECT %(supporters)s + 1 + i %% %(creators)s,
                   'https://github.com/shared' || i || '/repo', 'Repository ' || i, '',
                   'software', '', '', false, false, false, false, now()
              FROM generate_series(1, %(shared)s) i
            """,
            {"supporters": supporters, "creators": creators, "shared": SHARED_REPOS},
        )
        cursor.execute(
            """
            INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
            SELECT 'wallet', i, '', 0, now() FROM generate_series(1, %(supporters)s) i
            """,
            {"supporters": supporters},
        )
        cursor.execute(
            "INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)"
            " VALUES ('outside', NULL, '', 0, now()) ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            """
            WITH t AS (
                INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
                VALUES ('topup', 'bench:likes', 'Benchmark top-ups', now()) RETURNING id
            ),
            amounts AS (SELECT id AS account_id, 1000 AS cents FROM ledger_account
                         WHERE kind = 'wallet')
            INSERT INTO ledger_posting (transaction_id, account_id, amount)
            SELECT t.id, account_id, cents FROM t, amounts
            UNION ALL
            SELECT t.id, o.id, -(SELECT sum(cents) FROM amounts)
              FROM t, ledger_account o WHERE o.kind = 'outside' AND o.user_id IS NULL
            """
        )
    connected = timezone.now() - dt.timedelta(days=1)
    rows = []
    for user_id in range(1, supporters + 1):
        kind = "small" if user_id <= small else "bench"
        rows.append(
            ConnectedAccount(
                user_id=user_id,
                kind=AccountKind.GITHUB,
                url=api_url,
                remote_id=str(user_id),
                remote_login=f"u{user_id}",
                access_token=f"{kind}-{user_id}",
                connected_at=connected,
                next_poll_at=connected,
                baseline_done=True,
            )
        )
    ConnectedAccount.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ids = list(ConnectedAccount.objects.order_by("user_id").values_list("id", flat=True))
    return ids[:small], ids[small:]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _poll_all(ids: list[int], *, checkpoints: int = 10) -> dict:
    from django.db import connection, reset_queries

    from likes.polling import PollSummary, account_poll

    summary = PollSummary()
    counts: list[int] = []
    memory: list[float] = []
    current = [0]

    def count(execute, sql, params, many, context):
        current[0] += 1
        return execute(sql, params, many, context)

    step = max(len(ids) // checkpoints, 1)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with connection.execute_wrapper(count):
        for index, account_id in enumerate(ids):
            current[0] = 0
            account_poll(account_id=account_id, force=True, summary=summary)
            counts.append(current[0])
            reset_queries()
            if (index + 1) % step == 0:
                memory.append(_rss_mb())
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {
        "summary": summary.as_dict(),
        "seconds": round(seconds, 2),
        # This process's own CPU (Python: fetch, parse, ORM), not PostgreSQL's.
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_like": round(cpu * 1000 / summary.likes_seen, 3)
        if summary.likes_seen
        else None,
        "likes_per_s": round(summary.likes_seen / seconds, 1) if seconds else None,
        "accounts_per_s": round(len(ids) / seconds, 1) if seconds else None,
        "queries_per_account": {
            "min": min(counts, default=0),
            "median": statistics.median(counts) if counts else 0,
            "max": max(counts, default=0),
        },
        "rss_mb_at_each_tenth": memory,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--likes", type=int, default=50, help="new stars per account (<= 100)")
    parser.add_argument("--small-accounts", type=int, default=200)
    parser.add_argument("--likes-small", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flattr")
    recreate_database(base_url, SCRATCH)
    os.environ["DATABASE_URL"] = with_database(base_url, SCRATCH)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    os.environ.setdefault("DEBUG", "1")  # a scratch database: no production SECRET_KEY
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ["FETCH_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["FLATTR_LIKES_PER_MONTH"] = str(max(args.likes, args.likes_small))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from flattr_site.celery import app

    # Events are published, not sent: no worker runs here.
    app.conf.task_always_eager = False
    app.conf.update(broker_url="memory://")
    settings.DEBUG = False  # no query log growing in memory

    port = free_port()
    server = multiprocessing.Process(
        target=_serve, args=(port, args.likes, args.likes_small), daemon=True
    )
    server.start()
    try:
        wait_for_port(port)
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        small_ids, ids = _load(
            accounts=args.accounts, small=args.small_accounts, api_url=f"http://127.0.0.1:{port}"
        )
        load_s = time.perf_counter() - t0
        small = _poll_all(small_ids, checkpoints=1)
        main_run = _poll_all(ids)
        again = _poll_all(ids[: min(len(ids), 500)], checkpoints=1)
        from buttons.models import Flattr

        flattrs = Flattr.objects.filter(source="github").count()
    finally:
        server.terminate()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(base_url, SCRATCH, drop_only=True)
    result = {
        "accounts": args.accounts,
        "likes_per_account": args.likes,
        "migrate_s": round(migrate_s, 1),
        "load_s": round(load_s, 1),
        "small_accounts": {"likes_per_account": args.likes_small, **small},
        "run": main_run,
        "second_poll_of_500": again,
        "flattrs_in_table": flattrs,
    }
    print(json.dumps(result, indent=2))  # noqa: T201
    return result


if __name__ == "__main__":
    main()
