"""Posting is exactly once: concurrent workers, retries and a killed worker."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from payouts import services
from payouts.models import PayoutRun, RunStage, RunStatus
from payouts.services import compute as compute_module
from tests.concurrency import at_once
from tests.conftest import database_url_for_subprocess
from tests.factories import UserFactory, balance, flattr, supporter, thing
from tests.payouts.helpers import P

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def month(n_supporters=6):
    creator = UserFactory()
    supporters = [supporter(budget=100 + i, balance=1000) for i in range(n_supporters)]
    for i, s in enumerate(supporters):
        flattr(s, thing(owner=creator), P)
        if i % 2:
            flattr(s, thing(owner=None), P, minute=5)
    return creator, supporters


def assert_posted_once(run, creator, supporters):
    run.refresh_from_db()
    assert run.status == RunStatus.POSTED
    keys = list(
        Transaction.objects.filter(idempotency_key__startswith="payout:2026-09:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == len(set(keys))
    for i, s in enumerate(supporters):
        assert balance(s) == 1000 - (100 + i)
    assert balance(creator, AccountKind.EARNINGS) == run.net
    assert ledger_selectors.ledger_problems() == []


def test_two_workers_posting_at_once_post_once():
    creator, supporters = month()
    admin = UserFactory(is_staff=True, is_superuser=True)
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin, queue=False)
    results = at_once(2, lambda i: services.payout_run_post(run_id=run.pk))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert_posted_once(run, creator, supporters)


def test_a_retried_task_finds_the_work_done():
    from payouts.tasks import payout_post

    creator, supporters = month()
    admin = UserFactory(is_staff=True, is_superuser=True)
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin, queue=False)
    assert payout_post.apply(args=[run.pk]).get() == "posted"
    assert payout_post.apply(args=[run.pk]).get() == "posted"
    assert_posted_once(run, creator, supporters)


def test_a_worker_killed_half_way_is_finished_by_the_next(monkeypatch):
    monkeypatch.setattr(compute_module, "CHUNK_SIZE", 2)
    creator, supporters = month(n_supporters=6)
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    run = services.payout_run_compute(period=P)
    assert run.supporter_lines.values("chunk").distinct().count() == 3
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CRASH_HOLD_CHUNK": "posting:supporters:1",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.payouts.crash_worker",
            "command",
            "payout_approve",
            "2026-09",
            "--by",
            "boss@example.org",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        while line and "holding" not in line:
            line = proc.stdout.readline()
        assert "holding posting:supporters:1" in line, "the worker never reached the chunk"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    run.refresh_from_db()
    assert run.status == RunStatus.APPROVED
    assert run.stage == RunStage.POSTING_SUPPORTERS
    # Half-way: one chunk posted, the one being posted rolled back; the
    # books still balance.
    assert (
        Transaction.objects.filter(idempotency_key__startswith="payout:2026-09:supporters:").count()
        == 1
    )
    assert ledger_selectors.ledger_problems() == []
    services.payout_run_post(run_id=run.pk)
    assert_posted_once(run, creator, supporters)
    assert PayoutRun.objects.get(pk=run.pk).stage == RunStage.DONE
