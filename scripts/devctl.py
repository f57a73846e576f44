"""Start the platform's services for `make run` and `make test`.

    python scripts/devctl.py run            web + workers + beat with demo data
    python scripts/devctl.py exec -- CMD    run CMD with DATABASE_URL/REDIS_URL set

With DATABASE_URL and REDIS_URL in the environment those servers are used;
otherwise an embedded PostgreSQL and Redis are started under .data/ and
stopped on exit. Ctrl-C or SIGTERM stops every child and the embedded servers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Importing flattr_site (its Celery app) sets a default DJANGO_SETTINGS_MODULE
# in this process; children must not inherit it unless the caller set one
# (pytest keeps its own, tests.settings, which the variable would override).
_CALLER_SETTINGS = os.environ.get("DJANGO_SETTINGS_MODULE")

from flattr_site import embedded  # noqa: E402
from flattr_site.demo import DEMO_PASSWORD, DEMO_USERS  # noqa: E402

PY = sys.executable
# Celery workers of `run` and the queues each consumes (CELERY_TASK_ROUTES in
# flattr_site/settings.py; docs/operations.md, "Workers and queues"): money
# and mail on one, the fetches of strangers' servers (claim checks, webhooks)
# on another, so a slow site never delays a payout.
WORKER_QUEUES = {
    "worker": "celery,mail",
    "fetcher": "fetch,webhooks",
}


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signum)


def _terminate(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _env(data_dir: Path) -> dict[str, str]:
    env = embedded.ensure_env(data_dir)
    if _CALLER_SETTINGS is None:
        env.pop("DJANGO_SETTINGS_MODULE", None)
    env["FLATTR_DATA_DIR"] = str(data_dir)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run() -> int:
    data_dir = ROOT / ".data"
    env = _env(data_dir)
    env.setdefault("DEBUG", "1")
    port = env.get("PORT", "8000")
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    procs: list[subprocess.Popen] = []
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "seed_demo")
        celery = [PY, "-m", "celery", "-A", "flattr_site"]
        commands = {
            "web": [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            **{
                name: [*celery, "worker", "-Q", queues, "-n", f"{name}@%h", "-l", "info", "-c", "2"]
                for name, queues in WORKER_QUEUES.items()
            },
            "beat": [*celery, "beat", "-l", "info", "-s", str(data_dir / "celerybeat-schedule")],
        }
        for argv in commands.values():
            procs.append(subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True))
        site = env["SITE_URL"]
        print(
            f"\n  Open Flattr is running: {site}/\n"
            f"  Admin:          {site}/admin/\n"
            f"  Health:         {site}/healthz\n"
            f"  Demo publisher: http://localhost:{port}/demo/publisher/ (another site, as real embeds are)\n"
            f"  Demo logins (password '{DEMO_PASSWORD}'): "
            + ", ".join(
                f"{email}{' (admin)' if staff else ''}" for _, email, _, _, staff, _ in DEMO_USERS
            )
            + "\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = [p.args[2:4] for p in procs if p.poll() is not None]
        print(f"A process stopped ({failed}); stopping the others.", file=sys.stderr)
        return 1
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _terminate(procs)
        embedded.stop()
        print("Stopped.", flush=True)


def exec_(argv: list[str]) -> int:
    env = _env(ROOT / ".data")
    proc = None
    try:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
        return proc.wait()
    except Stop:
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            _terminate([proc])
        embedded.stop()


def main() -> int:
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        return run()
    if len(sys.argv) >= 3 and sys.argv[1] == "exec" and sys.argv[2] == "--":
        return exec_(sys.argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
