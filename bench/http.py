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
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench import _common as common  # noqa: E402

SCRATCH = "flattr_bench_http"


SETUP = (
    common.THING_WITH_FIVE_FLATTRS
    + """
from buttons.assets import button_js_version
print(thing.pk, button_js_version())
"""
)


def main() -> None:
    parser = common.load_parser(__doc__, seconds=4, connections=8)
    args = parser.parse_args()

    env, base_url = common.production_env(SCRATCH, CACHE_KEY_PREFIX="flattr-bench")
    thing_id, version = common.prepare(env, SETUP)[-2:]
    server, port = common.start_gunicorn(env, workers=args.workers, threads=args.threads)
    try:
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
                # Warm up: templates, connections, caches.
                common.worker((port, "GET", [(path, {})] * 2, 0.5))
                connections: list[common.Connection] = [(path, {})] * args.connections
                rounds[name].append(
                    common.measure(port, "GET", [connections] * args.clients, args.seconds)
                )
        results = common.medians(rounds)
    finally:
        common.stop(server)
        common.recreate_database(base_url, SCRATCH, drop_only=True)
    common.print_report(
        args, results, target_met=all(results[k]["vs_bare"] >= 0.8 for k in ("embed", "count_json"))
    )


if __name__ == "__main__":
    main()
