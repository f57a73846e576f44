"""Stripe events of pay-after-the-month charges reach the handlers funding
registers in ``payments.webhooks.after_mode_handlers``, once; events for no
charge of ours are logged no-ops answered 200."""

from __future__ import annotations

import logging

import pytest

from payments import webhooks
from payments.models import WebhookEvent
from tests.payments.helpers import pay_topup
from tests.stripe_fake import post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def charges(monkeypatch):
    """A stand-in for funding's handlers: knows the charges ``pi_known*``."""
    seen: list[tuple[str, str]] = []

    def handler(event: dict) -> bool:
        obj = event["data"]["object"]
        pi = obj.get("payment_intent") or obj.get("id")
        if not str(pi).startswith("pi_known"):
            return False
        seen.append((event["type"], event["id"]))
        return True

    for event_type in webhooks.AFTER_MODE_EVENTS:
        monkeypatch.setitem(webhooks.after_mode_handlers, event_type, handler)
    return seen


def intent(pi_id: str, **extra) -> dict:
    return {"id": pi_id, "object": "payment_intent", "metadata": {"run_id": "7"}, **extra}


@pytest.mark.parametrize(
    "event_type",
    [
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
    ],
)
def test_charge_events_reach_funding_once(client, stripe_fake, charges, event_type):
    first = post_event(client, event_type, intent("pi_known_1"), event_id="evt_a")
    assert (first.status_code, first.json()["result"]) == (200, "processed")
    replay = post_event(client, event_type, intent("pi_known_1"), event_id="evt_a")
    assert (replay.status_code, replay.json()["result"]) == (200, "duplicate")
    assert charges == [(event_type, "evt_a")]


def test_disputes_and_refunds_of_charges_reach_funding(client, stripe_fake, charges):
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_9", "payment_intent": "pi_known_2"}
    assert (
        post_event(client, "charge.dispute.created", dispute, event_id="evt_d").status_code == 200
    )
    refund = {
        "id": "ch_9",
        "object": "charge",
        "payment_intent": "pi_known_2",
        "amount_refunded": 100,
    }
    assert post_event(client, "charge.refunded", refund, event_id="evt_r").status_code == 200
    assert charges == [("charge.dispute.created", "evt_d"), ("charge.refunded", "evt_r")]


def test_an_event_for_an_unknown_charge_is_a_logged_no_op(client, stripe_fake, charges, caplog):
    with caplog.at_level(logging.WARNING):
        response = post_event(client, "payment_intent.succeeded", intent("pi_stranger"))
    assert (response.status_code, response.json()["result"]) == (200, "refused")
    assert "no charge of ours" in caplog.text
    assert WebhookEvent.objects.get().detail.endswith("no charge of ours")
    assert charges == []


def test_without_funding_registered_charge_events_are_refused_not_failed(
    client, stripe_fake, monkeypatch
):
    for event_type in webhooks.AFTER_MODE_EVENTS:
        monkeypatch.delitem(webhooks.after_mode_handlers, event_type, raising=False)
    response = post_event(client, "payment_intent.payment_failed", intent("pi_known_3"))
    assert (response.status_code, response.json()["result"]) == (200, "refused")


def test_a_top_ups_own_events_stay_with_top_ups(client, stripe_fake, charges, paid_topup):
    user, topup = paid_topup
    topup_intent = intent(topup.payment_intent_id, metadata={"topup_id": str(topup.pk)})
    response = post_event(client, "payment_intent.succeeded", topup_intent)
    assert response.json()["result"] == "processed"
    dispute = {
        "id": "dp_2",
        "object": "dispute",
        "charge": topup.charge_id,
        "payment_intent": topup.payment_intent_id,
        "amount": 800,
    }
    assert post_event(client, "charge.dispute.created", dispute).json()["result"] == "processed"
    assert charges == []


def test_pay_topup_helper_still_works(client, stripe_fake, user):
    assert pay_topup(client, stripe_fake, user).is_succeeded
