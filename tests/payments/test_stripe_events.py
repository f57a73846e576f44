"""Stripe events: refunds under concurrency, malformed events, audit trail."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from ledger import selectors as ledger_selectors
from ledger.models import Transaction
from payments import services
from payments.models import Gateway, TopUp
from tests.factories import UserFactory
from tests.stripe_fake import event_payload, sign


def paid_stripe_topup(amount_cents=10_000, fee_cents=100, charge_id="ch_race"):
    user = UserFactory()
    topup = TopUp.objects.create(
        user=user, amount_cents=amount_cents, gateway=Gateway.STRIPE, currency="eur"
    )
    with transaction.atomic():
        services.topup_fulfil(
            topup_id=topup.pk,
            amount_cents=amount_cents,
            currency="eur",
            fee_cents=fee_cents,
            payment_intent_id=f"pi_{charge_id}",
            charge_id=charge_id,
        )
    topup.refresh_from_db()
    return user, topup


def deliver(payload: str, results: list) -> None:
    try:
        response = Client().post(
            "/stripe/webhook/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload),
        )
        results.append((response.status_code, response.json().get("result")))
    finally:
        connection.close()


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        # Statistics are a snapshot per transaction: take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for_lock_waiters(n: int) -> None:
    import time

    for _ in range(2000):
        if lock_waiters() >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"{n} deliveries never queued on the top-up's lock")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", [(2000, 4000), (4000, 2000)])
def test_concurrent_cumulative_refunds_reverse_the_cumulative_amount_once(stripe_fake, order):
    user, topup = paid_stripe_topup()
    results: list = []
    threads = []
    # Hold the top-up's row so both deliveries are in flight at once, then
    # let them through in the order under test.
    with transaction.atomic():
        TopUp.objects.select_for_update().get(pk=topup.pk)
        for waiting, refunded in enumerate(order, start=1):
            payload = event_payload(
                "charge.refunded",
                {"id": "ch_race", "object": "charge", "amount_refunded": refunded},
            )
            thread = threading.Thread(target=deliver, args=(payload, results))
            thread.start()
            threads.append(thread)
            wait_for_lock_waiters(waiting)
    for thread in threads:
        thread.join()
    assert sorted(results) == [(200, "processed"), (200, "processed")]
    topup.refresh_from_db()
    assert topup.reversed_cents == 4000
    # 4000 of 10000 refunded: fee share 100*4000//10000 = 40; wallet gives 3960.
    assert ledger_selectors.wallet_balance(user=user) == 9900 - 3960
    assert ledger_selectors.ledger_problems() == []
    outside_back = sum(
        posting.amount
        for txn in Transaction.objects.filter(kind="topup_reversal")
        for posting in txn.postings.filter(account__kind="outside", account__ref="")
    )
    assert outside_back == 4000
