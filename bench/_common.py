"""What the benchmarks share: a scratch database, a production server and a
load client that measures requests per second and latency.

Imported as ``bench._common`` after a script has put the project root on
``sys.path`` (and taken ``bench/`` off it: ``bench/http.py`` is named like
the standard library's ``http``). Never run as a test.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


# --- scratch database -------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` pointing at the database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def recreate_database(url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop the scratch database ``name`` on ``url``'s server, then create it
    empty (unless ``drop_only``)."""
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def production_env(scratch: str, **extra: str) -> tuple[dict[str, str], str]:
    """Environment for a production server (DEBUG=0) on a new scratch
    database ``scratch``, and the server's base DATABASE_URL (to drop it
    afterwards). The given URLs or the embedded PostgreSQL and Redis."""
    from flattr_site import embedded

    env = embedded.ensure_env(ROOT / ".data")
    base_url = env["DATABASE_URL"]
    recreate_database(base_url, scratch)
    env.update(
        {
            "DATABASE_URL": with_database(base_url, scratch),
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env, base_url


def manage(env: dict[str, str], *args: str) -> str:
    """``manage.py <args>`` in ``env``; its standard output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def prepare(env: dict[str, str], setup: str) -> list[str]:
    """Migrate, collect static files, run the ``setup`` code in ``manage.py
    shell``; the words of the last line it printed."""
    manage(env, "migrate", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    return manage(env, "shell", "-c", setup).strip().splitlines()[-1].split()


# Code for ``prepare``: a creator's thing flattred by five supporters this
# month (``owner``, ``thing`` and ``now`` stay defined for what follows).
THING_WITH_FIVE_FLATTRS = """
from django.utils import timezone
from accounts.models import User
from buttons.models import Flattr, Thing
from buttons.services import period_of
owner = User.objects.create_user(email="bench@example.org", username="bench", password="x")
thing = Thing.objects.create(owner=owner, url="https://bench.example.org/post", title="Bench post")
now = timezone.now()
for i in range(5):
    fan = User.objects.create_user(email=f"fan{i}@example.org", username=f"fan{i}", password="x")
    Flattr.objects.create(supporter=fan, thing=thing, period=period_of(now), created_at=now)
"""


# --- server -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_gunicorn(
    env: dict[str, str], *, workers: int, threads: int, log_level: str = "warning"
) -> tuple[subprocess.Popen, int]:
    """gunicorn (gthread) serving the project on a free port, once it listens."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "flattr_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            log_level,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    wait_for_port(port, 30)
    return server, port


def stop(process: subprocess.Popen) -> None:
    """End a server started in its own session, and its workers."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(15)


# --- load -------------------------------------------------------------------

# One connection's work: a path asked again and again (str) or a list of paths
# walked once, and the headers sent with each request.
Connection = tuple[str | list[str], dict[str, str]]


def worker(args: tuple[int, str, list[Connection], float]) -> tuple[list[float], int]:
    """One client process: a keep-alive connection per item of ``jobs``, each
    in its own thread, until ``seconds`` pass. Latencies of 200 responses, and
    how many answered otherwise."""
    port, method, jobs, seconds = args
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(paths: str | list[str], headers: dict[str, str]) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], 0
        for path in itertools.repeat(paths) if isinstance(paths, str) else paths:
            if time.perf_counter() >= deadline:
                break
            start = time.perf_counter()
            try:
                conn.request(method, path, headers={"Host": "127.0.0.1", **headers})
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

    threads = [threading.Thread(target=loop, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def percentiles(latencies: Sequence[float], digits: int = 2) -> dict[str, float | None]:
    """p50 and p99 in milliseconds of sorted ``latencies`` (seconds)."""
    n = len(latencies)
    if not n:
        return {"p50_ms": None, "p99_ms": None}
    return {
        "p50_ms": round(latencies[n // 2] * 1000, digits),
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, digits),
    }


def measure(port: int, method: str, clients: list[list[Connection]], seconds: float) -> dict:
    """``clients``: per client process, its connections. Requests, errors,
    requests per second and p50/p99 over all of them."""
    with multiprocessing.Pool(len(clients)) as pool:
        results = pool.map(worker, [(port, method, jobs, seconds) for jobs in clients])
    latencies = sorted(x for chunk, _ in results for x in chunk)
    n = len(latencies)
    return {
        "requests": n,
        "errors": sum(e for _, e in results),
        "rps": round(n / seconds, 1),
        **percentiles(latencies),
    }


def medians(rounds: dict[str, list[dict]]) -> dict[str, dict]:
    """Per endpoint, the round with the median throughput, with its
    throughput relative to ``bare_view`` (the ceiling) as ``vs_bare``."""
    results = {
        name: sorted(figures, key=lambda f: f["rps"])[len(figures) // 2]
        for name, figures in rounds.items()
    }
    bare = results["bare_view"]["rps"] or 1
    for figures in results.values():
        figures["vs_bare"] = round(figures["rps"] / bare, 3)
    return results


# --- the command line and the report ----------------------------------------


def load_parser(doc: str, *, seconds: float, connections: int) -> argparse.ArgumentParser:
    """The options every load benchmark takes: its own can be added."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=seconds, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--connections",
        type=int,
        default=connections,
        help="keep-alive connections per client process",
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    return parser


def print_report(
    args: argparse.Namespace,
    results: dict[str, dict],
    *,
    target_met: bool,
    targets: dict[str, bool] | None = None,
) -> None:
    """One JSON object: the server, the load, the figures per endpoint
    (and, given ``targets``, which of them met theirs)."""
    print(
        json.dumps(
            {
                "server": f"gunicorn gthread {args.workers}x{args.threads}",
                "load": f"{args.clients} processes x {args.connections} keep-alive connections,"
                f" {args.rounds} interleaved rounds of {args.seconds}s, median",
                "cpus": os.cpu_count(),
                "results": results,
                "target_met": target_met,
                **({"targets": targets} if targets is not None else {}),
            },
            indent=2,
        )
    )
