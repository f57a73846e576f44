#!/usr/bin/env python
"""A button gone viral: many supporters flattr one thing while its embed and
count are read over and over.

    .venv/bin/python bench/viral.py [--supporters 5000] [--reads 50000] [--seconds 60]

Creates a scratch database (``flattr_bench_viral``), one thing and
``--supporters`` funded supporters with personal tokens, starts gunicorn
(production settings) and, for ``--seconds``, sends each supporter's one
``POST /rest/v2/things/<id>/flattr`` (spread over the run) while other
connections read ``/embed/<id>/`` and ``/things/<id>/count.json`` up to
``--reads`` times. Prints one JSON object: status counts (5xx must be 0),
flattrs accepted and in the database (each exactly once), how long after
the last flattr count.json showed the final count, and the longest lock
wait PostgreSQL reported (pg_locks.waitstart, sampled every 50 ms; the
scratch database also runs with log_lock_waits=on and deadlock_timeout=100ms).
Scale it down with the flags when the machine cannot carry a minute's load.
Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from bench import _common as common  # noqa: E402

SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_viral")

SETUP = """
from accounts.models import User
from api.services import personal_token_create
from buttons.models import Thing
from ledger import services as ledger
from ledger.models import AccountKind
owner = User.objects.create_user(email="maker@example.org", username="maker", password="x")
thing = Thing.objects.create(owner=owner, url="https://viral.example.org/episode", title="Episode")
User.objects.bulk_create(
    [User(email=f"fan{i}@example.org", username=f"fan{i}", password="!") for i in range(SUPPORTERS)]
)
outside = ledger.platform_account(kind=AccountKind.OUTSIDE)
tokens = []
for fan in User.objects.filter(username__startswith="fan").order_by("id"):
    ledger.transaction_post(
        kind="topup",
        idempotency_key=f"viral:{fan.pk}",
        legs=[(outside, -1000), (ledger.wallet_account(user=fan), 1000)],
    )
    tokens.append(personal_token_create(user=fan, name="viral", scopes="flattr")[1])
open(TOKENS_FILE, "w").write("\\n".join(tokens))
print(thing.pk)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--supporters", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=50000, help="embed and count requests")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--flattr-connections", type=int, default=8)
    parser.add_argument("--read-connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    env, base_url = common.production_env(
        SCRATCH, CACHE_KEY_PREFIX="flattr-bench-viral", FLATTR_API_RATE_LIMIT="100000000"
    )
    import psycopg

    scratch_url = common.with_database(base_url, SCRATCH)
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {SCRATCH} SET log_lock_waits = on")
        conn.execute(f"ALTER DATABASE {SCRATCH} SET deadlock_timeout = '100ms'")
    tokens_file = Path("/tmp") / f"{SCRATCH}-{time.time_ns()}.tokens"
    setup = SETUP.replace("SUPPORTERS", str(args.supporters)).replace(
        "TOKENS_FILE", repr(str(tokens_file))
    )
    thing_id = int(common.prepare(env, setup)[0])
    tokens = tokens_file.read_text().split()
    tokens_file.unlink()
    server, port = common.start_gunicorn(env, workers=args.workers, threads=args.threads)
    try:
        report = run(args, port, thing_id, tokens, scratch_url)
    finally:
        common.stop(server)
        common.recreate_database(base_url, SCRATCH, drop_only=True)
    report["load"] = vars(args)
    print(json.dumps(report, indent=2))


def run(args, port: int, thing_id: int, tokens: list[str], scratch_url: str) -> dict:
    import psycopg

    statuses: collections.Counter = collections.Counter()
    latencies: dict[str, list[float]] = {"flattr": [], "read": []}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + args.seconds
    todo: queue.Queue = queue.Queue()
    for token in tokens:
        todo.put(token)
    interval = args.seconds * 0.9 / max(len(tokens), 1)  # spread over the run
    last_flattr = {"at": 0.0}
    stop = threading.Event()

    def request(conn, method, path, headers):
        t = time.perf_counter()
        conn.request(method, path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - t

    def flattrer(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < deadline:
            try:
                token = todo.get_nowait()
            except queue.Empty:
                break
            due = start + interval * (k + n * args.flattr_connections)
            n += 1
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            try:
                status, _body, took = request(
                    conn,
                    "POST",
                    f"/rest/v2/things/{thing_id}/flattr",
                    {"Authorization": f"Bearer {token}"},
                )
            except (http.client.HTTPException, OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, took = "conn_error", 0.0
            with lock:
                statuses[f"flattr {status}"] += 1
                if status == 200:
                    latencies["flattr"].append(took)
                    last_flattr["at"] = time.perf_counter()
        conn.close()

    reads = {"n": 0}
    served: list[tuple[float, int]] = []

    def reader(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        paths = [f"/things/{thing_id}/count.json", f"/embed/{thing_id}/"]
        i = k
        while not stop.is_set():
            with lock:
                if reads["n"] >= args.reads and time.perf_counter() >= deadline:
                    break
                reads["n"] += 1
            path = paths[i % 2]
            i += 1
            try:
                status, body, took = request(conn, "GET", path, {})
            except (http.client.HTTPException, OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, body, took = "conn_error", b"", 0.0
            with lock:
                statuses[f"read {status}"] += 1
                if status == 200:
                    latencies["read"].append(took)
            if status == 200 and path.endswith("count.json"):
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    served.append((time.perf_counter(), int(json.loads(body)["count"])))
            if reads["n"] >= args.reads:
                time.sleep(0.01)  # the read budget is spent: keep watching the count only
        conn.close()

    waits: list[float] = []

    def lock_sampler() -> None:
        with psycopg.connect(scratch_url, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT coalesce(max(extract(epoch FROM now() - waitstart)), 0),"
                    " count(*) FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL"
                ).fetchone()
                if row and row[1]:
                    waits.append(float(row[0]))
                time.sleep(0.05)

    threads = [threading.Thread(target=flattrer, args=(k,)) for k in range(args.flattr_connections)]
    readers = [threading.Thread(target=reader, args=(k,)) for k in range(args.read_connections)]
    sampler = threading.Thread(target=lock_sampler)
    for t in [*threads, *readers, sampler]:
        t.start()
    for t in threads:
        t.join()
    flattrs_done = time.perf_counter()
    # Keep reading count.json until it shows every flattr, or 10 s.
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        in_db = conn.execute(
            "SELECT count(*), count(DISTINCT supporter_id) FROM buttons_flattr WHERE thing_id = %s",
            [thing_id],
        ).fetchone()
    watch_until = max(deadline, flattrs_done) + 10
    while time.perf_counter() < watch_until:
        if served and served[-1][0] > last_flattr["at"] and served[-1][1] == in_db[0]:
            break
        time.sleep(0.05)
    stop.set()
    for t in [*readers, sampler]:
        t.join()
    right_at = next(
        (at for at, count in served if at > last_flattr["at"] and count == in_db[0]), None
    )
    accepted = statuses.get("flattr 200", 0)
    server_errors = sum(n for k, n in statuses.items() if k.split()[-1].startswith("5"))
    elapsed = flattrs_done - start
    return {
        "statuses": dict(statuses),
        "server_errors_5xx": server_errors,
        "flattrs_sent": sum(n for k, n in statuses.items() if k.startswith("flattr")),
        "flattrs_accepted": accepted,
        "flattrs_in_db": in_db[0],
        "distinct_supporters_in_db": in_db[1],
        "each_counted_once": accepted == in_db[0] == in_db[1],
        "flattr_seconds": round(elapsed, 1),
        "flattr": {
            "rps": round(accepted / elapsed, 1),
            **common.percentiles(sorted(latencies["flattr"])),
        },
        "reads": {
            "requests": len(latencies["read"]),
            "rps": round(len(latencies["read"]) / max(elapsed, 0.001), 1),
            **common.percentiles(sorted(latencies["read"])),
        },
        "count_right_after_s": round(right_at - last_flattr["at"], 3) if right_at else None,
        "lock_wait_max_ms": round(max(waits, default=0) * 1000, 1),
        "lock_waits_over_100ms_samples": sum(1 for w in waits if w > 0.1),
    }


if __name__ == "__main__":
    main()
