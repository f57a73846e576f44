#!/usr/bin/env python
"""HTTP benchmark of the button's hot paths against the production server.

    .venv/bin/python bench/http.py [--seconds 4] [--rounds 3] [--connections 8] [--workers 2]

Creates a scratch database (``flattr_bench_http`` on DATABASE_URL's server,
or the embedded PostgreSQL when DATABASE_URL is not set), migrates it, makes
one thing with a few flattrs, starts gunicorn with production settings
(DEBUG=0) and measures, in the same run, requests per second and p50/p99
latency of:

- ``/embed/<id>/``          the button iframe
- ``/things/<id>/count.json``
- ``/button.js?v=...``
- ``/bench/ok``             a bare Django view returning "ok" (the ceiling)

The load comes from separate processes (keep-alive connections), so the
client's GIL does not flatten the differences. Prints one JSON object with
each endpoint's figures and its throughput relative to the bare view.
Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's http package: take our
# own folder off the import path before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import http.client  # noqa: E402
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
SCRATCH = "flattr_bench_http"


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
import datetime as dt
from django.utils import timezone
from accounts.models import User
from buttons.models import Flattr, Thing
from buttons.services import period_of
from buttons.assets import button_js_version
owner = User.objects.create_user(email="bench@example.org", username="bench", password="x")
thing = Thing.objects.create(owner=owner, url="https://bench.example.org/post", title="Bench post")
now = timezone.now()
for i in range(5):
    fan = User.objects.create_user(email=f"fan{i}@example.org", username=f"fan{i}", password="x")
    Flattr.objects.create(supporter=fan, thing=thing, period=period_of(now), created_at=now)
print(thing.pk, button_js_version())
"""


def worker(args) -> list[float]:
    port, path, seconds, connections = args
    import threading

    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}")
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def measure(port: int, path: str, seconds: float, processes: int, connections: int) -> dict:
    # Warm up: templates, connections, caches.
    worker((port, path, 0.5, 2))
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(worker, [(port, path, seconds, connections)] * processes)
    latencies = sorted(x for chunk in results for x in chunk)
    n = len(latencies)
    return {
        "requests": n,
        "rps": round(n / seconds, 1),
        "p50_ms": round(latencies[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2) if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--connections", type=int, default=8, help="keep-alive connections per client process"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
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
            "CACHE_KEY_PREFIX": "flattr-bench",
            "LOG_LEVEL": "WARNING",
        }
    )
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [py, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(
        [py, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    thing_id, version = out[-2], out[-1]

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
        paths = {
            "bare_view": "/bench/ok",
            "embed": f"/embed/{thing_id}/",
            "count_json": f"/things/{thing_id}/count.json",
            "button_js": f"/button.js?v={version}",
        }
        # Interleaved rounds, median per endpoint: a burst of load from
        # anything else on the machine hits every endpoint alike.
        rounds: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                rounds[name].append(
                    measure(port, path, args.seconds, args.clients, args.connections)
                )
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
                "target_met": all(results[k]["vs_bare"] >= 0.8 for k in ("embed", "count_json")),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
