#!/usr/bin/env python
"""Read replica benchmark: heavy public reads from the primary or a replica.

    .venv/bin/python bench/replica.py [--seconds 3] [--rounds 3] [--connections 4] [--workers 2]

Starts its own PostgreSQL primary and a streaming replica made with
``pg_basebackup -R`` (ops/pgreplica.py, as tests/ops/test_replica.py does),
migrates and seeds the primary (a creator's things, supporters with a posted
month, so the transparency JSON has a root, and flattrs this month), then
starts two gunicorns with production settings on the same primary: one
without a replica, one with ``DATABASE_REPLICA_URL``. In interleaved rounds
it measures requests per second and p50/p99 latency of:

- ``GET /transparency.json``        every published month
- ``GET /u/<creator>/``             a public profile with its things
- ``GET /explore/``                 the most flattred and the newest things
- ``GET /rest/v2/things/<id>``      the API's GET of a thing, anonymous

from each server, and the transactions each database committed over all
rounds (``pg_stat_database.xact_commit``), which says where the reads went.
Then the fallback: under the same mixed load on the server with the
replica, the replica is stopped (``pg_ctl -m immediate stop``) a third of
the way in; every request must still answer 200 (the errors are counted:
connection failures and any other status), and the server logs why it reads
the primary. Prints one JSON object. Redis is REDIS_URL (the machine's, a
db of your own) or the embedded one. Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's http package: take our
# own folder off the import path before importing it.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import collections  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import psycopg  # noqa: E402

from bench import _common as common  # noqa: E402
from ops import pgreplica  # noqa: E402

STATS_DELAY = 11

SETUP = """
import datetime as dt
from django.utils import timezone
from accounts.models import User
from buttons.models import Flattr, Thing
from ledger import services as ledger
from ledger.models import AccountKind
from payouts import services as payouts
period = payouts.last_closed_period()
now = timezone.now()
from buttons.services import period_of
this_month = period_of(now)
creators = User.objects.bulk_create(
    [User(email=f"maker{i}@example.org", username=f"maker{i}", password="!", bio="Makes things.")
     for i in range(CREATORS)]
)
things = Thing.objects.bulk_create(
    [Thing(owner=creators[i % CREATORS], url=f"https://bench.example.org/{i}", title=f"Post {i}",
           description="A post with a few words in it.", category="text")
     for i in range(THINGS)]
)
fans = User.objects.bulk_create(
    [User(email=f"fan{i}@example.org", username=f"fan{i}", password="!", monthly_budget_cents=300)
     for i in range(SUPPORTERS)]
)
outside = ledger.platform_account(kind=AccountKind.OUTSIDE)
ledger.transaction_post(
    kind="topup", idempotency_key="bench:replica",
    legs=[(outside, -5000 * len(fans))] + [(ledger.wallet_account(user=f), 5000) for f in fans],
)
start = dt.datetime.combine(period, dt.time(12), tzinfo=dt.timezone.utc)
flattrs = []
for n, fan in enumerate(fans):
    for j in range(10):
        t = things[(n * 7 + j * 13) % len(things)]
        flattrs.append(Flattr(supporter=fan, thing=t, period=period,
                              created_at=start + dt.timedelta(minutes=n + j)))
    for j in range(3):
        t = things[(n * 11 + j * 17) % len(things)]
        flattrs.append(Flattr(supporter=fan, thing=t, period=this_month, created_at=now))
Flattr.objects.bulk_create(flattrs)
run = payouts.payout_run_compute(period=period)
run = payouts.payout_run_approve(run=run, actor=None, queue=False)
run = payouts.payout_run_post(run_id=run.pk, poll_seconds=0.05)
print(run.status, creators[0].username, things[0].pk)
"""


def request_loop(args: tuple[int, list[str], float]) -> dict[str, int]:
    """One client process: a keep-alive connection per path, each in its own
    thread, until ``seconds`` pass. Answers counted by status; a connection
    that fails counts as ``"failed"``."""
    port, paths, seconds = args
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(path: str) -> None:
        mine: collections.Counter[str] = collections.Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline:
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                mine[str(response.status)] += 1
            except (http.client.HTTPException, OSError):
                mine["failed"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()
        with lock:
            counts.update(mine)

    threads = [threading.Thread(target=loop, args=(path,)) for path in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(counts)


def commits(urls: dict[str, str]) -> dict[str, int]:
    """Transactions committed so far in each database (pg_stat_database)."""
    out = {}
    for name, url in urls.items():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                row = conn.execute(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()
                out[name] = int(row[0]) if row else 0
        except psycopg.OperationalError:
            out[name] = -1
    return out


def start_server(env: dict[str, str], args, log: Path) -> tuple[subprocess.Popen, int]:
    """common.start_gunicorn with the server's log in a file."""
    port = common.free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                *("-m", "gunicorn", "flattr_site.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
                *("--worker-class", "gthread", "--threads", str(args.threads)),
                "--log-level",
                "warning",
            ],
            cwd=common.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    common.wait_for_port(port, 30)
    return server, port


def main() -> None:
    parser = common.load_parser(__doc__, seconds=3, connections=4)
    parser.add_argument("--major", type=int, default=15, help="PostgreSQL major version")
    parser.add_argument("--things", type=int, default=2000)
    parser.add_argument("--creators", type=int, default=20)
    parser.add_argument("--supporters", type=int, default=500)
    parser.add_argument("--fallback-seconds", type=float, default=9.0)
    args = parser.parse_args()

    from flattr_site import embedded

    base = embedded.ensure_env(common.ROOT / ".data")
    with pgreplica.primary_running(args.major, max_connections=200) as pair:
        dbname = pgreplica.DBNAME
        pair.tool(
            "createdb", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres", dbname
        )
        primary, replica = pair.url(pair.primary_port), pair.url(pair.replica_port)
        env = {
            **base,
            "DATABASE_URL": primary,
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "LOG_LEVEL": "WARNING",
            "CACHE_KEY_PREFIX": f"flattr-bench-replica-{os.getpid()}",
            "FLATTR_API_RATE_LIMIT": "100000000",
        }
        setup = (
            SETUP.replace("CREATORS", str(args.creators))
            .replace("THINGS", str(args.things))
            .replace("SUPPORTERS", str(args.supporters))
        )
        try:
            status, creator, thing_id = common.prepare(env, setup)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"seeding failed: {exc.stderr}") from None
        if status != "posted":
            raise RuntimeError(f"the seeded run is {status}, not posted")
        pair.replica_start()
        pair.catch_up(dbname=dbname)
        urls = {"primary": primary, "replica": replica}
        logs = pair.root / "logs"
        logs.mkdir()
        servers = {}
        try:
            servers["primary"] = start_server(env, args, logs / "primary.log")
            servers["replica"] = start_server(
                {**env, "DATABASE_REPLICA_URL": replica}, args, logs / "replica.log"
            )
            endpoints = {
                "transparency_json": "/transparency.json",
                "profile": f"/u/{creator}/",
                "explore": "/explore/",
                "api_thing": f"/rest/v2/things/{thing_id}",
            }
            for name, path in endpoints.items():  # warm up, and check each answers 200
                for reads, (_server, port) in servers.items():
                    counts = request_loop((port, [path], 0.5))
                    if set(counts) != {"200"}:
                        raise RuntimeError(f"{name} from {reads}: {counts}")

            def same(path: str) -> list[list[common.Connection]]:
                return [[(path, {})] * args.connections for _ in range(args.clients)]

            # Backends report their statistics when idle, within ~10 s.
            time.sleep(STATS_DELAY)
            before = commits(urls)
            rounds: dict[str, list[dict]] = {
                f"{name}_{reads}": [] for name in endpoints for reads in servers
            }
            for _ in range(args.rounds):
                for name, path in endpoints.items():
                    for reads, (_server, port) in servers.items():
                        rounds[f"{name}_{reads}"].append(
                            common.measure(port, "GET", same(path), args.seconds)
                        )
            time.sleep(STATS_DELAY)
            after = commits(urls)
            served = {
                reads: sum(
                    f["requests"] + f["errors"]
                    for k, v in rounds.items()
                    for f in v
                    if k.endswith(f"_{reads}")
                )
                for reads in servers
            }
            # Only the server with the replica reads the replica; both read
            # the primary, the first for everything.
            where = {
                "requests_served": served,
                "commits": {name: after[name] - before[name] for name in urls},
                "replica_commits_per_request_of_the_replica_server": round(
                    (after["replica"] - before["replica"]) / (served["replica"] or 1), 2
                ),
                "primary_commits_per_request_of_both_servers": round(
                    (after["primary"] - before["primary"]) / (sum(served.values()) or 1), 2
                ),
            }
            results = {
                key: sorted(figures, key=lambda f: f["rps"])[len(figures) // 2]
                for key, figures in rounds.items()
            }
            for name in endpoints:
                base_rps = results[f"{name}_primary"]["rps"] or 1
                results[f"{name}_replica"]["vs_primary"] = round(
                    results[f"{name}_replica"]["rps"] / base_rps, 3
                )

            # The fallback: the replica stops a third of the way in.
            port = servers["replica"][1]
            paths = list(itertools.islice(itertools.cycle(endpoints.values()), args.connections))
            stopper = threading.Timer(
                args.fallback_seconds / 3, pair.pg_ctl, ("replica", "-m", "immediate", "stop")
            )
            stopper.start()
            with multiprocessing.Pool(args.clients) as pool:
                parts = pool.map(
                    request_loop, [(port, paths, args.fallback_seconds)] * args.clients
                )
            stopper.join()
            answers: collections.Counter[str] = collections.Counter()
            for part in parts:
                answers.update(part)
            log = (logs / "replica.log").read_text(errors="replace")
            fallback = {
                "seconds": args.fallback_seconds,
                "replica_stopped_after_s": round(args.fallback_seconds / 3, 1),
                "answers": dict(answers),
                "errors": sum(n for status, n in answers.items() if status != "200"),
                "log_lines_reading_the_primary": log.count("Read replica not used"),
                "first_log_line": next(
                    (line for line in log.splitlines() if "Read replica not used" in line), None
                ),
            }
        finally:
            for server, _port in servers.values():
                common.stop(server)

    print(
        json.dumps(
            {
                "server": f"gunicorn gthread {args.workers}x{args.threads}, two of them"
                " (reading the primary / with DATABASE_REPLICA_URL)",
                "load": f"{args.clients} processes x {args.connections} keep-alive connections,"
                f" {args.rounds} interleaved rounds of {args.seconds}s, median",
                "data": {
                    "creators": args.creators,
                    "things": args.things,
                    "supporters": args.supporters,
                },
                "cpus": os.cpu_count(),
                "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
                "results": results,
                "where_the_reads_went": where,
                "fallback": fallback,
                "target_met": fallback["errors"] == 0,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
