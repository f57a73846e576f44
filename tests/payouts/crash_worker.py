"""A payout worker for crash tests, run as a child process.

    python -m tests.payouts.crash_worker command payout_approve 2026-09 --by x@example.org
    python -m tests.payouts.crash_worker worker NAME
    python -m tests.payouts.crash_worker beat SCHEDULE_FILE

The real command or a real Celery worker, with one hook installed here (not
in production code): the first process to post the chunk named by
``CRASH_HOLD_CHUNK`` (e.g. ``posting:supporters:1``) prints ``holding`` and
sleeps inside that chunk's database transaction, holding it, so the test can
SIGKILL it there. ``CRASH_HOLD_MARKER`` (a file path) makes "first" hold
across processes: whoever creates the file holds, the others post normally.
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
django.setup()

from payouts.services import post  # noqa: E402

HOLD = os.environ.get("CRASH_HOLD_CHUNK", "")
MARKER = os.environ.get("CRASH_HOLD_MARKER", "")


def _claim_hold() -> bool:
    if not MARKER:
        return True
    try:
        os.close(os.open(MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _holding(stage, poster):
    def hold_then_post(cursor, run, number, accounts, *, careful):
        poster(cursor, run, number, accounts, careful=careful)
        if f"{stage}:{number}" == HOLD and _claim_hold():
            print(f"holding {stage}:{number} in pid {os.getpid()}", flush=True)
            time.sleep(600)
        else:
            print(f"posted {stage}:{number} in pid {os.getpid()}", flush=True)

    return hold_then_post


for _stage, _poster in list(post.POSTERS.items()):
    post.POSTERS[_stage] = _holding(_stage, _poster)


def main(mode: str, *args: str) -> None:
    if mode == "command":
        from django.core.management import call_command

        call_command(*args)
    elif mode == "worker":
        from flattr_site.celery import app

        app.worker_main(
            [
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                f"--hostname={args[0]}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    elif mode == "beat":
        from flattr_site.celery import app

        app.start(["beat", "--loglevel=WARNING", f"--schedule={args[0]}", "--max-interval=1"])


if __name__ == "__main__":
    main(*sys.argv[1:])
