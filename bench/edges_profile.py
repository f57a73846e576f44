#!/usr/bin/env python
"""Where the time of an API request goes, measured in one process.

    .venv/bin/python bench/edges_profile.py [--requests 300]

Creates the scratch database ``flattr_bench_profile`` (on DATABASE_URL's
server, or the embedded PostgreSQL) with the same data as bench/api.py, then
runs requests through Django's WSGI handler in this process (production
settings, DEBUG=0, no HTTP) and prints one JSON object: per endpoint, the
mean milliseconds per request, the SQL queries per request and the time spent
in them, cache (Redis) round trips per request, and the ten functions with
the most cumulative time (cProfile). Never run as a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

from bench import _common as common  # noqa: E402
from bench.api import SETUP  # noqa: E402

SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_profile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    env, base_url = common.production_env(
        SCRATCH, CACHE_KEY_PREFIX="flattr-bench-profile", FLATTR_API_RATE_LIMIT="100000000"
    )
    setup = SETUP.replace("THINGS", str(args.requests + 10)).replace("SUPPORTERS", "2")
    out = common.prepare(env, setup)
    first, tokens = int(out[0]), out[2:]
    os.environ.update(env)
    try:
        print(json.dumps(profile(first, tokens, args.requests), indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.recreate_database(base_url, SCRATCH, drop_only=True)


def profile(first: int, tokens: list[str], n: int) -> dict:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    trips = {"n": 0}
    redis_client = cache._cache.get_client(None, write=True)
    pool = redis_client.connection_pool
    real_get = pool.get_connection

    def counting(*a, **k):
        trips["n"] += 1
        return real_get(*a, **k)

    pool.get_connection = counting  # every command (or pipeline) takes one

    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens[0]}"}
    endpoints = {
        "bare_view": lambda i: client.get("/bench/ok"),
        "thing_get": lambda i: client.get(f"/rest/v2/things/{first}"),
        "thing_get_token": lambda i: client.get(f"/rest/v2/things/{first}", **auth),
        "flattr_post": lambda i: client.post(f"/rest/v2/things/{first + i}/flattr", **auth),
    }
    report = {}
    for name, call in endpoints.items():
        for i in range(3):  # warm up: connections, caches, first flattrs
            assert call(n + 5 + i).status_code == 200, name
        trips["n"] = 0
        profiler = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            profiler.enable()
            for i in range(n):
                response = call(i)
                assert response.status_code == 200, (name, response.content[:200])
            profiler.disable()
            elapsed = time.perf_counter() - start
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
        stats.print_stats(
            r"(flattr|api|buttons|ledger|notifications|core|ops|django|rest_framework|redis|psycopg)",
            70,
        )
        report[name] = {
            "ms_per_request": round(elapsed * 1000 / n, 3),
            "queries_per_request": round(len(queries) / n, 2),
            "sql_ms_per_request": round(
                sum(float(q["time"]) for q in queries.captured_queries) * 1000 / n, 3
            ),
            "cache_round_trips_per_request": round(trips["n"] / n, 2),
            "queries_of_one_request": [
                q["sql"][:160] for q in queries.captured_queries[-int(len(queries) / n or 1) :]
            ],
            "profile": stream.getvalue().splitlines()[6:80],
        }
    return report


if __name__ == "__main__":
    main()
