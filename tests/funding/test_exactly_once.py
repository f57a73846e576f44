"""Exactly once: a worker killed between the processor's answer and our
record, a charge left in flight, two settles racing, replayed webhooks, a
storm of 429s."""

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from funding.models import Charge, ChargeStatus, CreatorPayout, Transfer
from funding.selectors import run_figures
from funding.services import charge_attempt, dispute_recorded, run_settle
from funding.services.charges import IN_FLIGHT_LEASE, _claim
from ledger.models import AccountKind, Transaction
from ledger.selectors import ledger_problems
from payments.gateways.base import Dispute, GatewayRateLimited
from payments.gateways.test import TestModeGateway
from payouts.models import PayoutRun
from tests.concurrency import at_once
from tests.conftest import database_url_for_subprocess
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_workers(monkeypatch):
    """No worker takes the queued charging (Celery is eager in tests): the
    settles of each test do it."""
    from funding import tasks

    monkeypatch.setattr(tasks.charge_chunk, "delay", lambda *args: None)


def month(n=4, pm="pm_card_visa"):
    claire = UserFactory()
    ready(claire)
    supporters = []
    for i in range(n):
        s = UserFactory(monthly_budget_cents=100 + i)
        flattr(s, thing(owner=claire), P)
        method(s, pm)
        supporters.append(s)
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    approve()
    return claire, supporters, PayoutRun.objects.get()


def assert_once(run, supporters):
    for s in supporters:
        assert Transaction.objects.filter(idempotency_key=f"charge:{run.pk}:{s.pk}").count() == 1
        assert balance(s, AccountKind.RECEIVABLE) == 0
    assert Charge.objects.filter(run=run).exclude(attempts=1).count() == 0
    figures = run_figures(run=run)
    assert figures["succeeded"]["count"] == len(supporters)
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_charge_left_in_flight_is_resumed_with_the_same_key_once(after):
    claire, supporters, run = month(n=1)
    charge = Charge.objects.get()
    attempt, _method = _claim(charge_id=charge.pk, now=timezone.now())
    assert attempt is not None
    # The worker died here. Within the lease nobody takes it over.
    assert settle()["waiting"] == {"count": 1, "cents": 100}
    assert charge_attempt(charge_id=charge.pk) is False
    run_settle(run=run, now=timezone.now() + IN_FLIGHT_LEASE + dt.timedelta(seconds=1))
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED
    assert list(charge.attempts_made.values_list("idempotency_key", flat=True)) == [
        attempt.idempotency_key
    ]
    assert_once(run, supporters)


def test_a_settle_killed_after_the_processor_charged_is_finished_once(after):
    claire, supporters, run = month(n=3)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "FLATTR_FUNDING": "after",
        "PAYMENT_GATEWAY": "test",
        "DEBUG": "1",
        "FLATTR_TRANSFER_AFTER_DAYS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.funding.crash_charger", "2026-09"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        output = [line]
        while line and "holding" not in line:
            line = proc.stdout.readline()
            output.append(line)
        assert "holding charge:" in line, "".join(output)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    in_flight = Charge.objects.get(status=ChargeStatus.IN_FLIGHT)
    assert Transaction.objects.filter(idempotency_key__startswith="charge:").count() == 0
    assert ledger_problems() == []
    run_settle(run=run, now=timezone.now() + IN_FLIGHT_LEASE + dt.timedelta(seconds=1))
    in_flight.refresh_from_db()
    assert in_flight.status == ChargeStatus.SUCCEEDED
    assert_once(run, supporters)


def test_two_settles_racing_charge_and_transfer_once(after):
    claire, supporters, run = month(n=6)
    results = at_once(2, lambda i: run_settle(run=run))
    assert not [r for r in results if isinstance(r, Exception)], results
    run_settle(run=run)
    assert_once(run, supporters)
    payout = CreatorPayout.objects.get(creator=claire)
    gross = sum(100 + i for i in range(6))
    assert payout.gross == gross
    assert payout.sent == gross - (gross * 10 + 50) // 100
    # One transfer, or two when a settle transferred what was collected while
    # the other was still charging (the follow-up): the creator is paid once.
    sent = Transfer.objects.filter(status="sent")
    assert sum(sent.values_list("amount", flat=True)) == payout.sent
    assert sorted(sent.values_list("number", flat=True)) in ([1], [1, 2])


def test_a_replayed_dispute_moves_money_once(after):
    claire, supporters, run = month(n=1)
    settle()
    charge = Charge.objects.get()
    dispute = Dispute(
        dispute_id="dp_1", payment_intent_id=charge.payment_intent_id, amount_cents=100
    )
    results = at_once(2, lambda i: dispute_recorded(dispute=dispute))
    assert sorted(results) == [False, True]
    assert dispute_recorded(dispute=dispute) is False
    assert (
        dispute_recorded(
            dispute=Dispute(dispute_id="dp_x", payment_intent_id="pi_unknown", amount_cents=5)
        )
        is False
    )
    figures = run_figures(run=run)
    assert figures["disputed"] == {"count": 1, "cents": 100}
    assert figures["transferred"] == {"count": 1, "cents": 0}
    assert figures["conservation_ok"] is True
    assert ledger_problems() == []


def test_a_storm_of_429s_waits_and_charges_once(after, monkeypatch):
    claire, supporters, run = month(n=3)
    answer = TestModeGateway.charge_off_session
    calls = {"n": 0}

    def storm(self, **kwargs):
        calls["n"] += 1
        if calls["n"] % 3:
            raise GatewayRateLimited("429", retry_after=0.01)
        return answer(self, **kwargs)

    monkeypatch.setattr(TestModeGateway, "charge_off_session", storm)
    figures = settle()
    assert figures["succeeded"]["count"] == 3
    assert calls["n"] == 9
    assert_once(run, supporters)
