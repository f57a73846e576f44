"""A local HTTP server answering as Stripe's documented API does, for the
after-mode calls (Customers, Checkout Sessions in setup mode, SetupIntents,
Mandates, PaymentMethods, off-session PaymentIntents, Transfers and their
reversals) and the wallet-mode ones (Checkout Sessions in payment mode and
their expiry, Connect Express accounts and account links, Refunds). The real ``stripe`` library talks to it over real HTTP
(``STRIPE_API_BASE``); it records each request (form parameters, the
Idempotency-Key) and, like Stripe, answers a repeated key with the first
answer (errors included, 429s excepted).

Payment methods behave as Stripe's documented test ids do
(``pm_card_visa``, ``pm_card_authenticationRequired``...), plus
``pm_sepa_debit_success`` / ``pm_sepa_debit_failure`` standing for the test
IBANs ending 3000 and 3001 (processing, then final)."""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Test payment methods and how Stripe documents their charges to fail
# (docs.stripe.com/testing, "Declined payments"): the error code and, for
# ``card_declined``, the decline code. No test card documents an
# ``advice_code``; tests inject those answers (``next_answers``).
CARDS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_authenticationRequired": ("visa", "3184", "authentication_required"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    # "Attaching succeeds, charging fails": the docs name no code; Stripe's
    # generic decline is what this answers.
    "pm_card_chargeCustomerFail": ("visa", "0341", "generic_decline"),
    "pm_card_createDispute": ("visa", "0259", None),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "code:expired_card"),
    "pm_card_chargeDeclinedLostCard": ("visa", "9987", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": ("visa", "9979", "stolen_card"),
    "pm_card_chargeDeclinedProcessingError": ("visa", "0119", "code:processing_error"),
    "pm_card_chargeDeclinedIncorrectCvc": ("visa", "0127", "code:incorrect_cvc"),
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": ("visa", "6975", "card_velocity_exceeded"),
}
SEPA = {"pm_sepa_debit_success": "3000", "pm_sepa_debit_failure": "3001"}


def payment_method(pm_id: str, customer: str | None = None) -> dict:
    if pm_id in SEPA:
        return {
            "id": pm_id,
            "object": "payment_method",
            "type": "sepa_debit",
            "customer": customer,
            "sepa_debit": {"last4": SEPA[pm_id], "bank_code": "37040044", "country": "DE"},
        }
    brand, last4, _ = CARDS[pm_id]
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "customer": customer,
        "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034},
    }


def _card_error(code: str, message: str, intent: dict, **extra) -> tuple[int, dict]:
    return 402, {
        "error": {
            "type": "card_error",
            "code": code,
            "message": message,
            "payment_intent": intent,
            "charge": intent.get("latest_charge"),
            **extra,
        }
    }


class StripeState:
    """What the server knows; tests read ``requests`` and add behaviour."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.requests: list[dict] = []
        self.by_key: dict[str, tuple[int, dict, dict]] = {}
        self.objects: dict[str, dict] = {}
        # (status, body, headers) answered to the next requests, first first.
        self.next_answers: list[tuple[int, dict, dict]] = []
        # Transfer ids that can no longer be reversed (balance spent).
        self.unreversible: set[str] = set()
        # Seconds to wait before answering (a slow Stripe).
        self.delay = 0.0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids)}"

    def forget_keys(self) -> None:
        """Stripe prunes idempotency keys once they are at least 24 hours
        old: a key used again after that makes a new object."""
        with self.lock:
            self.by_key.clear()

    def of_kind(self, kind: str) -> list[dict]:
        """The objects of one kind (``payment_intent``, ``transfer``...)."""
        return [o for o in self.objects.values() if o.get("object") == kind]

    def complete_setup(self, session_id: str, pm_id: str) -> None:
        """The supporter finishes Stripe's page with ``pm_id``."""
        session = self.objects[session_id]
        intent = self.objects[session["setup_intent"]]
        intent.update(status="succeeded", payment_method=pm_id)
        if pm_id in SEPA:
            mandate_id = self.new_id("mandate")
            self.objects[mandate_id] = {
                "id": mandate_id,
                "object": "mandate",
                "payment_method": pm_id,
                "type": "multi_use",
                "payment_method_details": {
                    "type": "sepa_debit",
                    "sepa_debit": {"reference": f"MANDATE-{mandate_id.upper()}"},
                },
            }
            intent["mandate"] = mandate_id
        self.objects[pm_id] = payment_method(pm_id, session["customer"])
        session.update(status="complete")

    def succeed(self, pi_id: str, fee: int | None) -> dict:
        """The PaymentIntent succeeds later (the supporter confirmed, a SEPA
        debit cleared): its charge has a balance transaction with ``fee``,
        or none yet (``fee`` None). Returns the intent as a webhook's
        ``data.object`` carries it: ``latest_charge`` an id, not expanded."""
        intent = self.objects[pi_id]
        ch_id = intent.get("latest_charge") or self.new_id("ch")
        txn = None
        if fee is not None:
            txn = self.new_id("txn")
            self.objects[txn] = {"id": txn, "object": "balance_transaction", "fee": fee}
        self.objects[ch_id] = {
            "id": ch_id,
            "object": "charge",
            "payment_intent": pi_id,
            "balance_transaction": txn,
        }
        intent.update(status="succeeded", latest_charge=ch_id, next_action=None)
        return dict(intent)


def _expand(obj: dict, paths: list[str], objects: dict) -> dict:
    obj = dict(obj)
    for path in paths:
        head, _, rest = path.partition(".")
        value = obj.get(head)
        if isinstance(value, str) and value in objects:
            value = objects[value]
        if isinstance(value, dict):
            obj[head] = _expand(value, [rest] if rest else [], objects)
    return obj


class Handler(BaseHTTPRequestHandler):
    server: StripeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{next(self.server.state.ids)}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(parts.query, keep_blank_values=True))
        key = self.headers.get("Idempotency-Key")
        if state.delay:
            time.sleep(state.delay)
        with state.lock:
            state.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "params": params,
                    "idempotency_key": key,
                    "stripe_version": self.headers.get("Stripe-Version"),
                }
            )
            if key and key in state.by_key:
                status, answer, headers = state.by_key[key]
                return self._answer(status, answer, {**headers, "Idempotent-Replayed": "true"})
            if state.next_answers:
                status, answer, headers = state.next_answers.pop(0)
                return self._answer(status, answer, headers)
            status, answer = self.route(state, method, parts.path, params)
            if key and status != 429:
                state.by_key[key] = (status, answer, {})
        self._answer(status, answer)

    def do_GET(self):  # noqa: N802
        self._handle("get")

    def do_POST(self):  # noqa: N802
        self._handle("post")

    def do_DELETE(self):  # noqa: N802
        self._handle("delete")

    def route(self, state: StripeState, method: str, path: str, p: dict) -> tuple[int, dict]:
        seg = path.strip("/").split("/")[1:]  # drop "v1"
        if method == "post" and any(k.startswith("payment_method_types[") for k in p):
            # API versions 2026-09-30.endive and later (the library's):
            # PaymentIntents, SetupIntents and Checkout Sessions refuse it.
            return 400, _invalid(
                "payment_method_types_no_longer_supported",
                "payment_method_types is no longer supported on this API version; "
                "use allowed_payment_method_types.",
            )
        expand = [v for k, v in p.items() if k.startswith("expand[")]
        if method == "post" and seg == ["customers"]:
            cus = {"id": state.new_id("cus"), "object": "customer", "email": p.get("email")}
            state.objects[cus["id"]] = cus
            return 200, cus
        if method == "post" and seg == ["checkout", "sessions"] and p.get("mode") == "payment":
            cs_id = state.new_id("cs_test")
            session = {
                "id": cs_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "client_reference_id": p.get("client_reference_id"),
                "amount_total": int(p["line_items[0][price_data][unit_amount]"]),
                "currency": p.get("line_items[0][price_data][currency]"),
                "url": f"https://checkout.stripe.com/c/pay/{cs_id}",
                "metadata": {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")},
            }
            state.objects[cs_id] = session
            return 200, session
        if method == "post" and len(seg) == 4 and seg[:2] == ["checkout", "sessions"]:
            session = state.objects.get(seg[2])
            if session is None:
                return 404, _invalid("resource_missing", f"No such checkout.session: '{seg[2]}'")
            if seg[3] != "expire" or session["status"] != "open":
                return 400, _invalid(
                    "checkout_session_not_expirable",
                    'Only Checkout Sessions with a status in ["open"] can be expired.',
                )
            session["status"] = "expired"
            return 200, session
        if method == "post" and seg == ["accounts"]:
            acct = {"id": state.new_id("acct"), "object": "account", "type": p.get("type")}
            state.objects[acct["id"]] = acct
            return 200, acct
        if method == "post" and seg == ["account_links"]:
            if p.get("account") not in state.objects:
                return 400, _invalid("resource_missing", f"No such account: '{p.get('account')}'")
            link = {
                "object": "account_link",
                "url": f"https://connect.stripe.com/setup/e/{p['account']}/{next(state.ids)}",
            }
            return 200, link
        if method == "post" and seg == ["refunds"]:
            re_ = {
                "id": state.new_id("re"),
                "object": "refund",
                "amount": int(p["amount"]),
                "payment_intent": p.get("payment_intent"),
                "charge": p.get("charge"),
                "status": "succeeded",
            }
            state.objects[re_["id"]] = re_
            return 200, re_
        if method == "post" and seg == ["checkout", "sessions"]:
            seti = {
                "id": state.new_id("seti"),
                "object": "setup_intent",
                "status": "requires_payment_method",
                "payment_method": None,
                "mandate": None,
                "customer": p.get("customer"),
            }
            state.objects[seti["id"]] = seti
            cs_id = state.new_id("cs_test")
            session = {
                "id": cs_id,
                "object": "checkout.session",
                "mode": p.get("mode"),
                "status": "open",
                "customer": p.get("customer"),
                "setup_intent": seti["id"],
                "url": f"https://checkout.stripe.com/c/pay/{cs_id}",
                "success_url": p.get("success_url"),
                "metadata": {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")},
            }
            state.objects[cs_id] = session
            return 200, session
        if method == "get" and seg in (["payment_intents"], ["transfers"]):
            return 200, self._list(state, path, seg[0][:-1], p, expand)
        if method == "get" and len(seg) == 3 and seg[0] == "transfers" and seg[2] == "reversals":
            return 200, self._list(state, path, "transfer_reversal", {**p, "transfer": seg[1]}, [])
        if method == "get" and len(seg) == 3 and seg[:2] == ["checkout", "sessions"]:
            return self._get(state, seg[2], expand)
        if method == "get" and len(seg) == 2 and seg[0] in ("setup_intents", "payment_intents"):
            return self._get(state, seg[1], expand)
        if method == "post" and len(seg) == 3 and seg[0] == "payment_methods":
            pm = state.objects.get(seg[1]) or payment_method(seg[1])
            pm = state.objects[seg[1]] = {**pm, "customer": None}
            return 200, pm
        if method == "post" and seg == ["payment_intents"]:
            status, answer = self.intent_create(state, p)
            return status, _expand(answer, expand, state.objects) if status == 200 else answer
        if (
            method == "post"
            and len(seg) == 3
            and seg[:1] + seg[2:] == ["payment_intents", "cancel"]
        ):
            return self.intent_cancel(state, seg[1], p)
        if method == "post" and len(seg) == 3 and seg[0] == "payment_intents":
            status, answer = self.intent_confirm(state, seg[1], p)
            return status, _expand(answer, expand, state.objects) if status == 200 else answer
        if method == "post" and seg == ["transfers"]:
            tr = {
                "id": state.new_id("tr"),
                "object": "transfer",
                "amount": int(p["amount"]),
                "destination": p.get("destination"),
                "transfer_group": p.get("transfer_group"),
                "amount_reversed": 0,
                "created": int(time.time()),
                "metadata": {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")},
            }
            state.objects[tr["id"]] = tr
            return 200, tr
        if method == "post" and len(seg) == 3 and seg[0] == "transfers" and seg[2] == "reversals":
            tr = state.objects.get(seg[1])
            if tr is None:
                return 404, _invalid("resource_missing", f"No such transfer: '{seg[1]}'")
            amount = int(p.get("amount", tr["amount"] - tr["amount_reversed"]))
            if seg[1] in state.unreversible or amount > tr["amount"] - tr["amount_reversed"]:
                return 400, _invalid(
                    "balance_insufficient", "Insufficient funds in the destination account."
                )
            tr["amount_reversed"] += amount
            rev = {
                "id": state.new_id("trr"),
                "object": "transfer_reversal",
                "amount": amount,
                "transfer": seg[1],
                "created": int(time.time()),
                "metadata": {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")},
            }
            state.objects[rev["id"]] = rev
            return 200, rev
        return 404, _invalid("resource_missing", f"Unrecognized request URL ({method} {path})")

    def _list(self, state: StripeState, path: str, kind: str, p: dict, expand: list[str]) -> dict:
        """``GET /v1/payment_intents`` (filter ``customer``), ``GET
        /v1/transfers`` (filters ``transfer_group``, ``destination``), both
        with ``created[gte]``, and a transfer's reversals: newest first, ``limit`` (default 10, at most
        100) per page, ``starting_after`` the last id of the page before."""
        filters = {
            f: p[f] for f in ("customer", "transfer_group", "destination", "transfer") if f in p
        }
        since = int(p.get("created[gte]", 0))
        found = [
            o
            for o in reversed(state.of_kind(kind))
            if o["created"] >= since and all(o.get(f) == v for f, v in filters.items())
        ]
        if "starting_after" in p:
            ids = [o["id"] for o in found]
            found = found[ids.index(p["starting_after"]) + 1 :]
        limit = min(int(p.get("limit", 10)), 100)
        inner = [e[5:] for e in expand if e.startswith("data.")]
        return {
            "object": "list",
            "url": path,
            "has_more": len(found) > limit,
            "data": [_expand(o, inner, state.objects) for o in found[:limit]],
        }

    def _get(self, state: StripeState, obj_id: str, expand: list[str]) -> tuple[int, dict]:
        obj = state.objects.get(obj_id)
        if obj is None:
            return 404, _invalid("resource_missing", f"No such object: '{obj_id}'")
        return 200, _expand(obj, expand, state.objects)

    def intent_create(self, state: StripeState, p: dict) -> tuple[int, dict]:
        suffix = p.get("statement_descriptor_suffix")
        if suffix is not None and (
            len(suffix) > 22
            or not suffix.isascii()
            or set(suffix) & set("<>\\'\"*")
            or not any(c.isalpha() for c in suffix)
        ):
            # docs.stripe.com/get-started/account/statement-descriptors
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_invalid_string",
                    "param": "statement_descriptor_suffix",
                    "message": "Invalid statement_descriptor_suffix.",
                }
            }
        pm_id = p.get("payment_method", "")
        pi_id = state.new_id("pi")
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": int(p["amount"]),
            "currency": p.get("currency"),
            "customer": p.get("customer"),
            "payment_method": pm_id,
            "transfer_group": p.get("transfer_group"),
            "metadata": {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")},
            "status": "requires_confirmation",
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
            "next_action": None,
        }
        state.objects[pi_id] = intent
        if pm_id not in CARDS and pm_id not in SEPA:
            intent["status"] = "requires_payment_method"
            return 400, _invalid("resource_missing", f"No such PaymentMethod: '{pm_id}'")
        return self._attempt(state, intent, off_session=p.get("off_session") == "true")

    def _attempt(self, state: StripeState, intent: dict, off_session: bool) -> tuple[int, dict]:
        pm_id = intent["payment_method"]
        ch_id = state.new_id("ch")
        intent["latest_charge"] = ch_id
        if pm_id in SEPA:
            intent["status"] = "processing"
            state.objects[ch_id] = {"id": ch_id, "object": "charge", "balance_transaction": None}
            return 200, intent
        outcome = CARDS[pm_id][2]
        if outcome is None or (outcome == "authentication_required" and not off_session):
            if outcome == "authentication_required":
                intent["status"] = "requires_action"
                intent["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "url": f"https://hooks.stripe.com/3d_secure_2/hosted?pi={intent['id']}",
                        "return_url": intent.get("return_url"),
                    },
                }
                return 200, intent
            txn = state.new_id("txn")
            fee = (intent["amount"] * 15 + 500) // 1000 + 25
            state.objects[txn] = {"id": txn, "object": "balance_transaction", "fee": fee}
            state.objects[ch_id] = {"id": ch_id, "object": "charge", "balance_transaction": txn}
            intent["status"] = "succeeded"
            return 200, intent
        intent["status"] = "requires_payment_method"
        error = {"code": "card_declined", "decline_code": outcome}
        if outcome == "authentication_required":
            error = {"code": "authentication_required", "decline_code": "authentication_required"}
        elif outcome.startswith("code:"):
            error = {"code": outcome[5:]}
        intent["last_payment_error"] = {**error, "payment_method": {"id": pm_id}}
        code = error.pop("code")
        return _card_error(code, "Your card was declined.", dict(intent), **error)

    def intent_cancel(self, state: StripeState, pi_id: str, p: dict) -> tuple[int, dict]:
        """docs.stripe.com/api/payment_intents/cancel: possible while the
        intent waits (requires_payment_method, _confirmation, _action,
        _capture); refused once it succeeded, is processing or canceled."""
        intent = state.objects.get(pi_id)
        if intent is None:
            return 404, _invalid("resource_missing", f"No such payment_intent: '{pi_id}'")
        if intent["status"] in ("succeeded", "processing", "canceled"):
            return 400, _invalid(
                "payment_intent_unexpected_state",
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
            )
        intent.update(
            status="canceled",
            cancellation_reason=p.get("cancellation_reason"),
            next_action=None,
        )
        return 200, intent

    def intent_confirm(self, state: StripeState, pi_id: str, p: dict) -> tuple[int, dict]:
        intent = state.objects.get(pi_id)
        if intent is None:
            return 404, _invalid("resource_missing", f"No such payment_intent: '{pi_id}'")
        if "payment_method" in p:
            intent["payment_method"] = p["payment_method"]
        intent["return_url"] = p.get("return_url")
        return self._attempt(state, intent, off_session=p.get("off_session") == "true")


def _invalid(code: str, message: str) -> dict:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


class StripeServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (its deadline passed) closed the socket.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = StripeState()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> StripeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
