"""A stand-in for Stripe's HTTP API: the real ``stripe`` library runs, only
its transport is replaced. Like Stripe, a repeated Idempotency-Key returns
the first response."""

from __future__ import annotations

import itertools
import json
import time
from urllib.parse import parse_qs

import stripe

WEBHOOK_SECRET = "whsec_test_secret"


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.calls: list[dict] = []
        self.routes: dict[tuple[str, str], object] = {}
        self.by_key: dict[str, tuple[str, int, dict]] = {}
        self.ids = itertools.count(1)
        self.fail_next: list[tuple[int, dict]] = []

    def route(self, method: str, path: str, response):
        """``response``: a dict, or a callable (params, call) -> dict."""
        self.routes[(method.lower(), path)] = response

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        path = "/" + path.split("?")[0]
        params = {k: v[0] for k, v in parse_qs(post_data or "").items()} if post_data else {}
        if "?" in url:
            params.update({k: v[0] for k, v in parse_qs(url.split("?", 1)[1]).items()})
        key = (headers or {}).get("Idempotency-Key")
        call = {"method": method.lower(), "path": path, "params": params, "idempotency_key": key}
        self.calls.append(call)
        if key and key in self.by_key:
            return self.by_key[key]
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return json.dumps(body), status, {}
        handler = self.routes.get((method.lower(), path))
        if handler is None:
            return json.dumps({"error": {"message": f"no fake route {method} {path}"}}), 404, {}
        body = handler(params, call) if callable(handler) else handler
        response = (json.dumps(body), 200, {"request-id": f"req_{next(self.ids)}"})
        if key:
            self.by_key[key] = response
        return response

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


def sign(payload: str, secret: str = WEBHOOK_SECRET) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=int(time.time())
    )


_event_ids = itertools.count(1)


def event_payload(event_type: str, obj: dict, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{next(_event_ids)}_{time.time_ns()}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    )


def post_event(
    client, event_type: str, obj: dict, event_id: str | None = None, secret: str = WEBHOOK_SECRET
):
    payload = event_payload(event_type, obj, event_id)
    return client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret),
    )


def payment_intent(pi_id: str, fee: int, charge_id: str = "ch_1") -> dict:
    """A PaymentIntent expanded down to the fee Stripe kept."""
    return {
        "id": pi_id,
        "object": "payment_intent",
        "latest_charge": {
            "id": charge_id,
            "object": "charge",
            "balance_transaction": {"id": "txn_1", "object": "balance_transaction", "fee": fee},
        },
    }


def session_obj(topup, **extra) -> dict:
    """The Checkout Session Stripe reports for one of our top-ups."""
    return {
        "id": topup.checkout_session_id,
        "object": "checkout.session",
        "client_reference_id": str(topup.pk),
        "metadata": {"topup_id": str(topup.pk)},
        "amount_total": topup.amount_cents,
        "currency": "eur",
        "payment_status": "paid",
        "payment_intent": f"pi_{topup.pk}",
        **extra,
    }


class WatchingStripe(FakeStripe):
    """A FakeStripe that notes, for each call, whether our code held a
    database transaction open (``in_atomic``), and can lose the next
    responses after Stripe acted (``lose_responses``): the request went
    through, but the answer never reached us, as in a crash or timeout."""

    def __init__(self):
        super().__init__()
        self.lose_responses = 0

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from django.db import connection

        response = super().request(method, url, headers, post_data, _usage=_usage)
        self.calls[-1]["in_atomic"] = connection.in_atomic_block
        if self.lose_responses:
            self.lose_responses -= 1
            raise stripe.APIConnectionError("connection reset (simulated)")
        return response
