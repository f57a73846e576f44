"""Stripe events: refunds under concurrency, malformed events, audit trail."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import Transaction
from payments import services
from payments.models import Gateway, TopUp, WebhookEvent
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


def post_raw(client, payload: str):
    return client.post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
    )


@pytest.mark.django_db
class TestMalformedEvents:
    @pytest.mark.parametrize(
        "payload",
        [
            '{"id": "evt_m1", "type": "charge.refunded", "data": {}}',
            '{"id": "evt_m2", "type": "charge.refunded", "data": {"object": "x"}}',
            '{"id": "evt_m3", "type": "charge.refunded",'
            ' "data": {"object": {"id": "ch_race", "amount_refunded": "lots"}}}',
            '{"id": "evt_m4", "type": "charge.refunded",'
            ' "data": {"object": {"id": 12, "amount_refunded": 100}}}',
            '{"id": "evt_m5", "type": "charge.dispute.created",'
            ' "data": {"object": {"charge": "ch_race", "amount": 100}}}',
            '{"id": "evt_m6", "type": "checkout.session.completed",'
            ' "data": {"object": {"client_reference_id": "TOPUP", "payment_status": "paid"}}}',
            '["not", "an", "event"]',
            "not json at all",
        ],
    )
    def test_signed_but_malformed_is_400_kept_for_audit_and_moves_nothing(
        self, client, stripe_fake, payload
    ):
        user, topup = paid_stripe_topup()
        payload = payload.replace("TOPUP", str(topup.pk))
        before = Transaction.objects.count()
        response = post_raw(client, payload)
        assert response.status_code == 400
        assert response.json()["result"] == "malformed"
        event = WebhookEvent.objects.get()
        assert event.result == WebhookEvent.Result.MALFORMED
        assert event.payload == payload
        assert event.detail
        assert Transaction.objects.count() == before
        topup.refresh_from_db()
        assert topup.reversed_cents == 0
        assert ledger_selectors.wallet_balance(user=user) == 9900
        # Delivered again, it is a duplicate: still nothing moves.
        assert post_raw(client, payload).status_code in (200, 400)
        assert Transaction.objects.count() == before

    def test_unsigned_garbage_is_400_and_not_stored(self, client, stripe_fake):
        response = client.post(
            "/stripe/webhook/", "{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1"
        )
        assert response.status_code == 400
        assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_every_event_payload_is_stored_and_shown_read_only_in_the_admin(client, stripe_fake):
    payload = event_payload("customer.created", {"id": "cus_1", "object": "customer"}, "evt_kept")
    assert post_raw(client, payload).json()["result"] == "ignored"
    user, topup = paid_stripe_topup()
    refund = event_payload(
        "charge.refunded", {"id": "ch_race", "amount_refunded": 1000}, "evt_refund"
    )
    assert post_raw(client, refund).json()["result"] == "processed"
    stored = dict(WebhookEvent.objects.values_list("event_id", "payload"))
    assert stored == {"evt_kept": payload, "evt_refund": refund}

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    event = WebhookEvent.objects.get(event_id="evt_refund")
    page = client.get(reverse("admin:payments_webhookevent_change", args=[event.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "amount_refunded" in body
    assert 'name="payload"' not in body  # shown, not editable
    assert (
        client.post(
            reverse("admin:payments_webhookevent_change", args=[event.pk]), {"payload": "x"}
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.payload == refund
