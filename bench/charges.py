#!/usr/bin/env python
"""Charging after the month at scale: off-session charges paced by the one
shared Stripe limiter, from several worker processes.

    .venv/bin/python bench/charges.py [--charges 100000] [--limit 20]
        [--workers 4] [--every-429 250]

Starts a local HTTP server of its own (a separate process) that answers
``POST /v1/payment_intents`` as Stripe does for a card that succeeds, and
with a 429 and ``Retry-After: 1`` to every ``--every-429``-th request. Then
``--workers`` processes share the charges and each calls
``StripeGateway.charge_off_session`` (the real ``stripe`` library over real
HTTP, each request through ``payments.limiter.stripe_slot()`` on Redis at
REDIS_URL, db 12 unless set), waiting ``Retry-After`` and calling again with
the same idempotency key on a 429. No database is needed: the charges use
unsaved ``PaymentMethod`` rows.

Prints one JSON object: requests the server received (429s included); the
most slots the limiter granted in any one-second window, on Redis's clock
(read from the limiter's own sorted set every 0.2 s, which keeps each grant
for its window: a pure observer), and the most requests the server received
in any one-second window (sliding, to the microsecond; this one also carries
each process's scheduling delay between grant and send); the mean rate, the wall time against ``charges / limit``,
and each worker's resident memory after its first 1% of charges and at the
end. Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


def most_in_any_window(times: list[float], seconds: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- the server of our own, answering as Stripe does -----------------------


def serve(port_out, stop_in, times_out, every_429: int) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()
    counter = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body in one go, no 40 ms stall

        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_POST(self):  # noqa: N802
            now = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            with lock:
                arrivals.append(now)
                counter["n"] += 1
                n = counter["n"]
            key = self.headers.get("Idempotency-Key", "")
            body: dict[str, object]
            headers: dict[str, str]
            if every_429 and n % every_429 == 0:
                status, headers = 429, {"Retry-After": "1"}
                body = {"error": {"type": "rate_limit_error", "message": "Too many requests"}}
            else:
                status, headers = 200, {}
                amount = 200
                body = {
                    "id": "pi_" + key.replace(":", "_"),
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": "eur",
                    "status": "succeeded",
                    "latest_charge": {
                        "id": "ch_" + key.replace(":", "_"),
                        "object": "charge",
                        "balance_transaction": {
                            "id": "txn_" + key.replace(":", "_"),
                            "object": "balance_transaction",
                            "fee": (amount * 15 + 500) // 1000 + 25,
                        },
                    },
                }
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{n}")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port_out.send(server.server_address[1])
    stop_in.recv()
    server.shutdown()
    with lock:
        times_out.send(arrivals)


# --- watching the limiter's grants on Redis's clock ---------------------------


def watch_grants(redis_url: str, key: str, stop: threading.Event, seen: dict) -> None:
    """Read the limiter's window (a sorted set of grants scored by Redis's
    clock in microseconds) every 0.2 s: each grant stays in it for a window
    (1.05 s), so every grant is seen. Only reads; the limiter is unchanged."""
    import redis

    client = redis.Redis.from_url(redis_url)

    def read() -> None:
        for member, score in client.zrange(key, 0, -1, withscores=True):  # type: ignore[str-unpack]
            seen[member] = float(score) / 1_000_000

    while not stop.is_set():
        read()
        stop.wait(0.2)
    read()


# --- the workers -------------------------------------------------------------


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def work(worker: int, first: int, count: int, out, ready) -> None:
    import django

    django.setup()
    from payments.gateways import GatewayRateLimited, GatewayUnreachable
    from payments.gateways.stripe import StripeGateway
    from payments.models import PaymentMethod

    gateway = StripeGateway()
    ready.wait()  # all workers start charging together, Django loaded
    warm = max(1, count // 100)
    rss_start = 0
    rate_limited = unreachable = 0
    for i, supporter in enumerate(range(first, first + count)):
        method = PaymentMethod(
            user_id=supporter,
            customer_id=f"cus_{supporter}",
            payment_method_id="pm_card_visa",
            kind="card",
        )
        while True:
            try:
                result = gateway.charge_off_session(
                    method=method,
                    amount_cents=200,
                    currency="eur",
                    idempotency_key=f"charge:1:{supporter}",
                    transfer_group="run:1",
                    statement_descriptor="FLATTR 2026-11",
                    metadata={"run_id": "1", "supporter_id": str(supporter)},
                )
            except GatewayRateLimited as exc:
                rate_limited += 1
                time.sleep(exc.retry_after or 1.0)
                continue
            except GatewayUnreachable:
                unreachable += 1
                time.sleep(0.5)
                continue
            break
        assert result.status == "succeeded", result
        if i + 1 == warm:
            rss_start = rss_kb()
    out.put(
        {
            "worker": worker,
            "charges": count,
            "rate_limited": rate_limited,
            "unreachable": unreachable,
            "rss_kb_after_1pct": rss_start,
            "rss_kb_end": rss_kb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charges", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=20.0, help="requests a second")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--every-429", type=int, default=250, help="0: never")
    args = parser.parse_args()

    context = multiprocessing.get_context("fork")
    port_in, port_out = context.Pipe(duplex=False)
    stop_in, stop_out = context.Pipe(duplex=False)
    times_in, times_out = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(port_out, stop_in, times_out, args.every_429))
    server.start()
    port = port_in.recv()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "flattr_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "PAYMENT_GATEWAY": "stripe",
            "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
            "STRIPE_MAX_REQUESTS_PER_SECOND": str(args.limit),
            "CACHE_KEY_PREFIX": f"flattr-bench-charges-{os.getpid()}",
        }
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    # Required by the settings with DEBUG off; never connected to here.
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

    share, extra = divmod(args.charges, args.workers)
    results = context.Queue()
    ready = context.Barrier(args.workers + 1)
    workers, first = [], 1
    for w in range(args.workers):
        count = share + (1 if w < extra else 0)
        workers.append(context.Process(target=work, args=(w, first, count, results, ready)))
        first += count
    for process in workers:
        process.start()
    grants: dict = {}
    watching = threading.Event()
    watcher = threading.Thread(
        target=watch_grants,
        args=(
            os.environ["REDIS_URL"],
            f"{os.environ['CACHE_KEY_PREFIX']}:1:payments:stripe-slots",
            watching,
            grants,
        ),
        daemon=True,
    )
    watcher.start()
    ready.wait(timeout=300)
    started = time.monotonic()
    reports: list[dict] = []
    while len(reports) < len(workers):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode for p in workers):
                break  # a worker died: report what the others did
    for process in workers:
        process.join()
    wall = time.monotonic() - started
    watching.set()
    watcher.join()
    stop_out.send(True)
    arrivals = times_in.recv()
    server.join()
    failed = [p.exitcode for p in workers if p.exitcode]
    expected = len(arrivals) / args.limit
    span = max(arrivals) - min(arrivals) if arrivals else 0.0
    print(
        json.dumps(
            {
                "charges": args.charges,
                "workers": args.workers,
                "limit_per_second": args.limit,
                "requests": len(arrivals),
                "answered_429": sum(r["rate_limited"] for r in reports),
                "grants_seen": len(grants),
                "max_grants_in_any_1s_redis_clock": most_in_any_window(list(grants.values())),
                "max_requests_in_any_1s_at_server": most_in_any_window(arrivals),
                "mean_requests_per_second": round(len(arrivals) / span, 2) if span else None,
                "wall_seconds": round(wall, 1),
                "charges_over_limit_seconds": round(args.charges / args.limit, 1),
                "wall_over_charges_over_limit": round(wall / (args.charges / args.limit), 3),
                "requests_over_limit_seconds": round(expected, 1),
                "rss_kb": sorted(reports, key=lambda r: r["worker"]),
                "worker_failures": failed,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
