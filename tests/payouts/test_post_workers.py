"""Posting across real Celery workers: one is SIGKILLed mid-run and the
other finishes the run, every key posted once, without a manual command
(acks_late, and the beat sweeper queues the chunk nobody holds)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flattr_site.celery import app as celery_app
from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from payouts import services
from payouts.models import PayoutChunk, PayoutRun, RunStage, RunStatus
from payouts.services import compute as compute_module
from payouts.services import post as post_module
from tests.conftest import database_url_for_subprocess
from tests.factories import UserFactory
from tests.payouts.helpers import balance, flattr, supporter, thing

ROOT = Path(__file__).resolve().parents[2]
P = dt.date(2026, 9, 1)
# The promise is "within minutes"; the test gives the survivor three.
DEADLINE_SECONDS = 180
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The approval message goes to the real broker, for the real workers.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


def _start(mode: str, arg: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.payouts.crash_worker", mode, arg],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_holder(procs: dict[str, subprocess.Popen]) -> str:
    """The name of the worker that holds the chunk (it says so)."""
    import selectors

    watch = selectors.DefaultSelector()
    for name, proc in procs.items():
        watch.register(proc.stdout, selectors.EVENT_READ, name)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while time.monotonic() < deadline:
            for key, _events in watch.select(timeout=1):
                line = key.fileobj.readline()
                if "holding" in line:
                    return key.data
    finally:
        watch.close()
    raise AssertionError("no worker reached the chunk to hold")


def test_a_worker_killed_mid_run_is_finished_by_the_other_worker(monkeypatch, tmp_path):
    monkeypatch.setattr(compute_module, "CHUNK_SIZE", 2)
    monkeypatch.setattr(post_module, "CREATOR_CHUNK_SIZE", 2)
    creators = [UserFactory() for _ in range(5)]
    supporters = [supporter(budget=100 + i, balance=1000) for i in range(10)]
    for i, s in enumerate(supporters):
        flattr(s, thing(owner=creators[i % 5]), P)
        flattr(s, thing(owner=creators[(i + 1) % 5]), P, minute=1)
        if i % 3 == 0:
            flattr(s, thing(owner=None), P, minute=5)
    admin = UserFactory(is_staff=True, is_superuser=True)
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin, queue=False)
    celery_app.control.purge()

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "PYTHONUNBUFFERED": "1",
        "CRASH_HOLD_CHUNK": "posting:supporters:2",
        "CRASH_HOLD_MARKER": str(tmp_path / "held"),
        "FLATTR_PAYOUT_SWEEP_SECONDS": "2",
    }
    workers = {name: _start("worker", name, env) for name in ("one", "two")}
    beat = _start("beat", str(tmp_path / "beat-schedule"), env)
    try:
        # The approval's message, as payout_run_approve queues it on commit.
        celery_app.send_task("payouts.tasks.payout_post", args=[run.pk])
        holder = _wait_for_holder(workers)
        workers[holder].send_signal(signal.SIGKILL)
        workers[holder].wait(10)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status == RunStatus.POSTED:
                break
            time.sleep(1)
        survivor = next(p for name, p in workers.items() if name != holder)
        assert survivor.poll() is None, "the surviving worker stopped"
    finally:
        for proc in [*workers.values(), beat]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        celery_app.control.purge()

    run.refresh_from_db()
    assert (run.status, run.stage) == (RunStatus.POSTED, RunStage.DONE)
    assert not PayoutChunk.objects.filter(run=run, done_at__isnull=True).exists()
    keys = list(
        Transaction.objects.filter(idempotency_key__startswith="payout:2026-09:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == len(set(keys))
    assert {k for k in keys if ":supporters:" in k} == {
        f"payout:2026-09:supporters:{n}" for n in range(5)
    }
    assert {k for k in keys if ":creator:" in k} == {
        f"payout:2026-09:creator:{c.pk}" for c in creators
    }
    for i, s in enumerate(supporters):
        assert balance(s) == 1000 - (100 + i)
    assert sum(balance(c, AccountKind.EARNINGS) for c in creators) == run.net
    assert PayoutRun.objects.get(pk=run.pk).conservation_ok
    assert ledger_selectors.ledger_problems() == []
