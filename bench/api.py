#!/usr/bin/env python
"""HTTP benchmark of the REST API v2 against the production server.

    .venv/bin/python bench/api.py [--seconds 3] [--rounds 3] [--connections 4] [--workers 2]

Creates a scratch database (``flattr_bench_api`` on DATABASE_URL's server, or
the embedded PostgreSQL), migrates it, makes a creator with many things and
funded supporters with personal access tokens, starts gunicorn with
production settings (DEBUG=0) and measures, in the same run, requests per
second and p50/p99 latency of:

- ``GET /rest/v2/things/<id>``         a thing, anonymous (rate limit counted)
- ``GET /rest/v2/things/<id>`` + token  the same with a bearer token
- ``POST /rest/v2/things/<id>/flattr``  a flattr (each request a new thing)
- ``/bench/ok``                         the bare Django view (the ceiling)

Prints one JSON object; the target is the anonymous read at >= 50% of the
bare view. Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's http package: take our
# own folder off the import path before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = "flattr_bench_api"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + SCRATCH))


def recreate_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH}"')


def drop_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


SETUP = """
from accounts.models import User
from api.services import personal_token_create
from buttons.models import Thing
from ledger import services as ledger
from ledger.models import AccountKind
owner = User.objects.create_user(email="maker@example.org", username="maker", password="x")
Thing.objects.bulk_create(
    [Thing(owner=owner, url=f"https://bench.example.org/{i}", title=f"Post {i}") for i in range(THINGS)]
)
ids = list(Thing.objects.order_by("id").values_list("id", flat=True))
tokens = []
for i in range(SUPPORTERS):
    fan = User.objects.create_user(email=f"fan{i}@example.org", username=f"fan{i}", password="x")
    ledger.transaction_post(
        kind="topup",
        idempotency_key=f"bench:{i}",
        legs=[(ledger.platform_account(kind=AccountKind.OUTSIDE), -100000), (ledger.wallet_account(user=fan), 100000)],
    )
    tokens.append(personal_token_create(user=fan, name="bench", scopes="flattr")[1])
print(ids[0], ids[-1], " ".join(tokens))
"""


def worker(args) -> tuple[list[float], int]:
    port, method, paths, headers, seconds = args
    import threading

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(my_paths, my_headers):
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], 0
        # A str is one path asked again and again; a list is walked once.
        for path in itertools.repeat(my_paths) if isinstance(my_paths, str) else my_paths:
            if time.perf_counter() >= deadline:
                break
            start = time.perf_counter()
            try:
                conn.request(method, path, headers={"Host": "127.0.0.1", **my_headers})
                response = conn.getresponse()
                response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            if response.status != 200:
                bad += 1
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [
        threading.Thread(target=loop, args=(p, h)) for p, h in zip(paths, headers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def measure(port, method, jobs, seconds) -> dict:
    """``jobs``: per client process, a list of (paths, headers) per connection."""
    with multiprocessing.Pool(len(jobs)) as pool:
        results = pool.map(
            worker,
            [(port, method, [p for p, _ in job], [h for _, h in job], seconds) for job in jobs],
        )
    latencies = sorted(x for chunk, _ in results for x in chunk)
    errors = sum(e for _, e in results)
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": round(n / seconds, 1),
        "p50_ms": round(latencies[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4, help="per client process")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--things", type=int, default=4000, help="things to flattr")
    args = parser.parse_args()

    from flattr_site import embedded

    env = embedded.ensure_env(ROOT / ".data")
    base_url = env["DATABASE_URL"]
    recreate_database(base_url)
    env.update(
        {
            "DATABASE_URL": scratch_url(base_url),
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "CACHE_KEY_PREFIX": "flattr-bench-api",
            "LOG_LEVEL": "WARNING",
            "FLATTR_API_RATE_LIMIT": "100000000",
        }
    )
    connections = args.clients * args.connections
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [py, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    setup = SETUP.replace("THINGS", str(args.things)).replace("SUPPORTERS", str(connections))
    out = (
        subprocess.run(
            [py, "manage.py", "shell", "-c", setup],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split()
    )
    first, last, tokens = int(out[0]), int(out[1]), out[2:]

    port = free_port()
    server = subprocess.Popen(
        [
            py,
            "-m",
            "gunicorn",
            "flattr_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)

        def same(path, with_token=False):
            return [
                [
                    (
                        path,
                        {"Authorization": f"Bearer {tokens[c * args.connections + k]}"}
                        if with_token
                        else {},
                    )
                    for k in range(args.connections)
                ]
                for c in range(args.clients)
            ]

        flattr_cursor = {"next": first}

        def flattrs():
            # Every connection (one supporter each) walks through things it
            # has not flattred yet, so each request records a new flattr.
            start = flattr_cursor["next"]
            jobs = []
            for c in range(args.clients):
                job = []
                for k in range(args.connections):
                    paths = [f"/rest/v2/things/{i}/flattr" for i in range(start, last + 1)]
                    token = tokens[c * args.connections + k]
                    job.append((paths, {"Authorization": f"Bearer {token}"}))
                jobs.append(job)
            return jobs

        thing = f"/rest/v2/things/{first}"
        worker((port, "GET", ["/bench/ok", thing], [{}, {}], 0.5))  # warm up
        rounds: dict[str, list[dict]] = {
            "bare_view": [],
            "thing_get": [],
            "thing_get_token": [],
            "flattr_post": [],
        }
        for _ in range(args.rounds):
            rounds["bare_view"].append(measure(port, "GET", same("/bench/ok"), args.seconds))
            rounds["thing_get"].append(measure(port, "GET", same(thing), args.seconds))
            rounds["thing_get_token"].append(
                measure(port, "GET", same(thing, with_token=True), args.seconds)
            )
            figures = measure(port, "POST", flattrs(), args.seconds)
            rounds["flattr_post"].append(figures)
            # Later rounds start after the things this round may have used.
            flattr_cursor["next"] += figures["requests"] + figures["errors"]
        results = {
            name: sorted(figures, key=lambda f: f["rps"])[len(figures) // 2]
            for name, figures in rounds.items()
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
        drop_database(base_url)
    bare = results["bare_view"]["rps"] or 1
    for figures in results.values():
        figures["vs_bare"] = round(figures["rps"] / bare, 3)
    print(
        json.dumps(
            {
                "server": f"gunicorn gthread {args.workers}x{args.threads}",
                "load": f"{args.clients} processes x {args.connections} keep-alive connections, {args.rounds} interleaved rounds of {args.seconds}s, median",
                "cpus": os.cpu_count(),
                "results": results,
                "target_met": results["thing_get"]["vs_bare"] >= 0.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
