#!/usr/bin/env python
"""Fault benchmark: PgBouncer restarted during a burst of flattrs.

    .venv/bin/python bench/pooler_restart.py [--seconds 6] [--connections 4] [--workers 2]

Creates a scratch database (``flattr_bench_pooler`` on DATABASE_URL's
server, or the embedded PostgreSQL), seeds funded supporters with API tokens
and a creator's things, starts a strict PgBouncer in transaction mode in
front of it (ops/pgbouncer.py) and gunicorn with production settings
pointed at the pooler (``DATABASE_POOLER=1``). Each keep-alive connection is
one supporter flattring new things through ``POST /rest/v2/things/<id>/flattr``;
a third of the way in, the pooler is stopped (SIGTERM: connections and
transactions in flight are cut), stays away ``--down-seconds`` and starts
again on the same port.

Then, on the server itself: every flattr answered 200/201 exists exactly
once; every refused one answered 503 (never 500); a refused flattr that the
server wrote anyway (its COMMIT went through, the answer was lost) is
counted; asking again for every refused one after the restart leaves exactly
one flattr each; ``ledger_check`` is clean. Prints one JSON object; the goal
is ``ok: true``. Never run as a test.
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
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import psycopg  # noqa: E402

from bench import _common as common  # noqa: E402
from ops import pgbouncer  # noqa: E402

SCRATCH = "flattr_bench_pooler"

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
out = [str(ids[0]), str(ids[-1])]
for i in range(SUPPORTERS):
    fan = User.objects.create_user(email=f"fan{i}@example.org", username=f"fan{i}", password="x",
                                   monthly_budget_cents=500)
    ledger.transaction_post(
        kind="topup",
        idempotency_key=f"bench:{i}",
        legs=[(ledger.platform_account(kind=AccountKind.OUTSIDE), -100000), (ledger.wallet_account(user=fan), 100000)],
    )
    out.append(f"{fan.pk}:{personal_token_create(user=fan, name='bench', scopes='flattr')[1]}")
print(" ".join(out))
"""


def flattr(conn: http.client.HTTPConnection, port: int, thing: int, token: str) -> str:
    """One flattr; the status, or "failed" when the connection broke (then
    ``conn`` must be replaced)."""
    conn.request(
        "POST",
        f"/rest/v2/things/{thing}/flattr",
        headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"},
    )
    response = conn.getresponse()
    response.read()
    return str(response.status)


def written_flattrs(url: str) -> dict[tuple[int, int], int]:
    """(supporter, thing): how many flattrs the server holds."""
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT supporter_id, thing_id, count(*) FROM buttons_flattr"
            " GROUP BY supporter_id, thing_id"
        ).fetchall()
    return {(s, t): n for s, t, n in rows}


def main() -> None:
    parser = common.load_parser(__doc__, seconds=6, connections=4)
    parser.add_argument("--things", type=int, default=20000)
    parser.add_argument("--down-seconds", type=float, default=1.0)
    args = parser.parse_args()
    connections = args.clients * args.connections

    env, base_url = common.production_env(
        SCRATCH,
        CACHE_KEY_PREFIX=f"flattr-bench-pooler-{os.getpid()}",
        FLATTR_API_RATE_LIMIT="100000000",
        FLATTR_CLICK_RATE_PER_USER="100000000/h",
        FLATTR_CLICK_RATE_PER_IP="100000000/h",
    )
    direct = env["DATABASE_URL"]
    setup = SETUP.replace("THINGS", str(args.things)).replace("SUPPORTERS", str(connections))
    try:
        out = common.prepare(env, setup)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"seeding failed: {exc.stderr}") from None
    first, last = int(out[0]), int(out[1])
    fans = [(int(pk), token) for pk, token in (word.split(":", 1) for word in out[2:])]
    per = (last - first + 1) // len(fans)

    answers: list[tuple[int, int, str]] = []  # (supporter, thing, status)
    lock = threading.Lock()
    try:
        with pgbouncer.pooler_running(direct, pool_size=4) as pooler:
            server, port = common.start_gunicorn(
                {
                    **env,
                    "DATABASE_URL": pooler.url,
                    "DATABASE_DIRECT_URL": direct,
                    "DATABASE_POOLER": "1",
                },
                workers=args.workers,
                threads=args.threads,
            )
            try:
                ready = threading.Barrier(len(fans) + 1)
                clock = {"deadline": 0.0}

                def burst(n: int) -> None:
                    supporter, token = fans[n]
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    # Warm up (the workers' first requests are slow): read
                    # a thing with the token, then start all together.
                    for _ in range(3):
                        conn.request(
                            "GET",
                            f"/rest/v2/things/{first}",
                            headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"},
                        )
                        conn.getresponse().read()
                    ready.wait()
                    deadline = clock["deadline"]
                    mine = []
                    for thing in range(first + n * per, first + (n + 1) * per):
                        if time.perf_counter() >= deadline:
                            break
                        try:
                            status = flattr(conn, port, thing, token)
                        except (http.client.HTTPException, OSError):
                            status = "failed"
                            conn.close()
                            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        mine.append((supporter, thing, status))
                    conn.close()
                    with lock:
                        answers.extend(mine)

                threads = [threading.Thread(target=burst, args=(n,)) for n in range(len(fans))]
                began = time.perf_counter()
                away: dict[str, float] = {}

                def restart() -> None:
                    pooler.stop()
                    away["stopped_at_s"] = round(time.perf_counter() - began, 2)
                    time.sleep(args.down_seconds)
                    pooler.start()
                    away["back_at_s"] = round(time.perf_counter() - began, 2)

                restarter = threading.Timer(args.seconds / 3, restart)
                for t in threads:
                    t.start()
                clock["deadline"] = time.perf_counter() + args.seconds
                ready.wait()
                began = time.perf_counter()
                restarter.start()
                for t in [*threads, restarter]:
                    t.join()

                before = written_flattrs(direct)
                # Asking again for every refused flattr, the pooler back.
                refused = [(s, t, st) for s, t, st in answers if st not in ("200", "201")]
                tokens = dict(fans)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                again = collections.Counter(
                    flattr(conn, port, thing, tokens[supporter]) for supporter, thing, _ in refused
                )
                conn.close()
            finally:
                common.stop(server)

        written = written_flattrs(direct)
        check = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "ledger_check"],
            cwd=common.ROOT,
            env={**env, "DATABASE_URL": direct},
            capture_output=True,
            text=True,
        )
    finally:
        common.recreate_database(base_url, SCRATCH, drop_only=True)

    statuses = collections.Counter(status for _, _, status in answers)
    accepted = [(s, t) for s, t, st in answers if st in ("200", "201")]
    refused_pairs = [(s, t) for s, t, _ in refused]
    results: dict[str, object] = {
        "pooler": away,
        "requests": len(answers),
        "answers": dict(statuses),
        "accepted": len(accepted),
        "accepted_missing": sum(1 for pair in accepted if pair not in written),
        "written_more_than_once": sum(1 for n in written.values() if n > 1),
        "refused": len(refused),
        "refused_not_503": sum(1 for _, _, st in refused if st != "503"),
        "refused_but_written": sum(1 for pair in refused_pairs if pair in before),
        "asked_again": dict(again),
        "refused_missing_after_asking_again": sum(
            1 for pair in refused_pairs if pair not in written
        ),
        "written_not_asked": len(set(written) - {(s, t) for s, t, _ in answers}),
        "ledger_check": check.returncode,
    }
    ok = (
        results["accepted_missing"] == 0
        and results["written_more_than_once"] == 0
        and results["refused_not_503"] == 0
        and results["refused_missing_after_asking_again"] == 0
        and results["written_not_asked"] == 0
        and results["ledger_check"] == 0
        and len(refused) > 0
    )
    print(
        json.dumps(
            {
                "server": f"gunicorn gthread {args.workers}x{args.threads} through PgBouncer"
                " (transaction mode, pool 4)",
                "load": f"{connections} supporters, one keep-alive connection each,"
                f" {args.seconds}s; pooler stopped after {args.seconds / 3:.1f}s,"
                f" away {args.down_seconds}s",
                "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
                "results": results,
                "ok": ok,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
