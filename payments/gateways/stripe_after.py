"""Stripe for pay-after-the-month: saving a way to pay (Checkout in setup
mode), off-session charges, Connect transfers and their reversals.

Every request goes through the shared limiter and a deadline
(``stripe_client.get_paced_client``, through ``StripeGateway._paced``), and
``stripe_calls.call`` reads Stripe's transport errors. Stripe's answers become the gateway's
vocabulary here and nowhere else: a 429 is ``GatewayRateLimited`` with its
``Retry-After``; a network failure or a 5xx is ``GatewayUnreachable`` (call
again with the same key); a decline is a ``ChargeResult`` saying whether the
same method may be tried again (Stripe's decline and advice codes,
docs.stripe.com/declines/codes).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import stripe

from payments.gateways.base import (
    ChargeResult,
    ChargeStatus,
    Checkout,
    GatewayDeclined,
    GatewayUnreachable,
    SavedMethod,
)
from payments.gateways.stripe_calls import call as _call

if TYPE_CHECKING:
    from payments.models import PaymentMethod

logger = logging.getLogger(__name__)

# How a decline is answered, from Stripe's documentation
# (docs.stripe.com/declines/card, "Retrying issuer declines", and
# docs.stripe.com/declines/codes). Three answers: retry the same method on
# our schedule, wait for the supporter to save a new way to pay, or give up.
#
# Stripe's ``advice_code`` (card issuer declines) comes first when present:
# ``try_again_later`` -> retry; ``do_not_try_again`` (the issuer will never
# approve it: retrying risks the card networks' excessive-retry fees) and
# ``confirm_card_data`` (the card details must be collected again) -> a new
# way to pay.
RETRY_ADVICE = frozenset({"try_again_later"})
NEW_METHOD_ADVICE = frozenset({"do_not_try_again", "confirm_card_data"})
# Without an advice code, the decline code (or the error code) decides.
# Temporary by the table's "next steps" (try again, possibly later):
RETRYABLE_DECLINES = frozenset(
    {
        "insufficient_funds",
        "generic_decline",
        "do_not_honor",
        "try_again_later",
        "processing_error",
        "issuer_not_available",
        "reenter_transaction",
        "approve_with_id",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
        "call_issuer",
        "no_action_taken",
    }
)
# Never to be charged again for this (a blocked or fraudulent payer): the
# charge is given up at once.
GIVE_UP_DECLINES = frozenset({"fraudulent", "merchant_blacklist"})
# Anything else (expired_card, lost_card, stolen_card, pickup_card,
# incorrect_number, card_not_supported, currency_not_supported,
# revocation_of_authorization, stop_payment_order, an unknown code...)
# waits for a new way to pay: an unknown code is not retried blindly.


def _get(obj: Any, key: str) -> Any:
    if obj is None or isinstance(obj, str):
        return None
    try:
        return obj[key]
    except (KeyError, TypeError):
        return getattr(obj, key, None)


def _fee(intent: Any) -> int | None:
    fee = _get(_get(_get(intent, "latest_charge"), "balance_transaction"), "fee")
    return int(fee) if fee is not None else None


def _charge_id(intent: Any) -> str:
    charge = _get(intent, "latest_charge")
    if isinstance(charge, str):
        return charge
    return str(_get(charge, "id") or "")


def _found_by_key(what: str, list_page: Callable[[str | None], Any], key: str) -> Any:
    """The object whose ``metadata.key`` is ``key``, reading every page of a
    Stripe list (newest first, 100 a page); None when there is none. Two
    (a key sent blind after Stripe pruned it): the first made is the one
    the key stands for, and the other is logged for a refund by hand."""
    matches: list[Any] = []
    starting_after: str | None = None
    while True:
        page = _call(what, functools.partial(list_page, starting_after))
        data = list(_get(page, "data") or [])
        matches += [obj for obj in data if _get(_get(obj, "metadata"), "key") == key]
        if not _get(page, "has_more") or not data:
            break
        starting_after = str(_get(data[-1], "id"))
    if len(matches) > 1:
        logger.error(
            "%s: %d objects carry the key %s (%s): the oldest is kept, refund the others",
            what,
            len(matches),
            key,
            ", ".join(str(_get(m, "id")) for m in matches),
        )
    return matches[-1] if matches else None


def _declined(error: Mapping[str, Any] | Any, payment_intent_id: str) -> ChargeResult:
    """A decline (a 402 ``card_error``, or a PaymentIntent's
    ``last_payment_error``) read as the module's table above says."""
    code = str(_get(error, "code") or "")
    decline = str(_get(error, "decline_code") or "")
    advice = str(_get(error, "advice_code") or "")
    if code == "authentication_required" or decline == "authentication_required":
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION,
            payment_intent_id=payment_intent_id,
            reason="authentication_required",
        )
    reason = decline or code or "declined"
    give_up = reason in GIVE_UP_DECLINES
    if give_up:
        retryable = False
    elif advice in RETRY_ADVICE:
        retryable = True
    elif advice in NEW_METHOD_ADVICE:
        retryable = False
    else:
        retryable = reason in RETRYABLE_DECLINES
    return ChargeResult(
        status=ChargeStatus.FAILED,
        payment_intent_id=payment_intent_id,
        charge_id=str(_get(error, "charge") or ""),
        reason=reason,
        retryable=retryable,
        give_up=give_up,
    )


# Stripe's rules for a statement descriptor (docs.stripe.com/get-started/
# account/statement-descriptors): Latin characters only, none of < > \ ' " *,
# at least one letter in the prefix and in the suffix, 22 characters in all
# (prefix, "* " and suffix; what is longer is cut on the statement). A
# suffix breaking them makes Stripe refuse the charge, so one is sent only
# when it can be made valid.
_DESCRIPTOR_REFUSED = re.compile(r"[<>\\'\"*]")
SUFFIX_MAX = 22


def descriptor_suffix(text: str) -> str:
    """``text`` as a valid statement descriptor suffix: accents folded to
    Latin letters, other characters Stripe refuses dropped, spaces
    collapsed, at most 22 characters; "" when no letter is left (then the
    account's own descriptor is shown)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    kept = "".join(c for c in folded if c.isprintable())
    kept = " ".join(_DESCRIPTOR_REFUSED.sub(" ", kept).split())[:SUFFIX_MAX].strip()
    return kept if any(c.isalpha() for c in kept) else ""


def intent_result(intent: Any) -> ChargeResult:
    """A PaymentIntent's state as a ChargeResult."""
    status = _get(intent, "status")
    pi_id = str(_get(intent, "id"))
    if status == "succeeded":
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED,
            payment_intent_id=pi_id,
            charge_id=_charge_id(intent),
            fee_cents=_fee(intent),
        )
    if status == "processing":
        return ChargeResult(
            status=ChargeStatus.PROCESSING, payment_intent_id=pi_id, charge_id=_charge_id(intent)
        )
    if status in ("requires_action", "requires_confirmation"):
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION,
            payment_intent_id=pi_id,
            reason="authentication_required",
        )
    error = _get(intent, "last_payment_error")
    if status == "requires_payment_method" and error is not None:
        return _declined(error, pi_id)
    return ChargeResult(
        status=ChargeStatus.FAILED, payment_intent_id=pi_id, reason=str(status), retryable=False
    )


class StripeAfterModeMixin:
    """The after-mode half of ``StripeGateway``."""

    if TYPE_CHECKING:

        def _paced(self, *, deadline: float | None = None) -> stripe.StripeClient: ...

    # --- saving a way to pay ------------------------------------------------

    def customer_ensure(self, *, user_id: int, email: str) -> str:
        client = self._paced()
        customer = _call(
            "customer",
            lambda: client.v1.customers.create(
                params={"email": email, "metadata": {"user_id": str(user_id)}},
                options={"idempotency_key": f"customer:{user_id}"},
            ),
        )
        return customer.id

    def setup_start(
        self, *, customer_id: str, idempotency_key: str, success_url: str, cancel_url: str
    ) -> Checkout:
        from django.conf import settings

        currency = settings.CURRENCY.lower()
        client = self._paced()
        try:
            session = _call(
                "setup checkout",
                lambda: client.v1.checkout.sessions.create(
                    params={
                        "mode": "setup",
                        "customer": customer_id,
                        # API 2026-09-30.endive and later refuse
                        # ``payment_method_types`` (400
                        # payment_method_types_no_longer_supported).
                        "allowed_payment_method_types": ["card", "sepa_debit"],
                        "currency": currency,
                        "setup_intent_data": {"metadata": {"key": idempotency_key}},
                        "metadata": {"key": idempotency_key},
                        "success_url": success_url,
                        "cancel_url": cancel_url,
                    },
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return Checkout(url=session.url or "", session_id=session.id)

    def setup_result(self, *, session_id: str) -> SavedMethod | None:
        client = self._paced()
        try:
            session = _call(
                "setup result",
                lambda: client.v1.checkout.sessions.retrieve(
                    session_id,
                    params={"expand": ["setup_intent.payment_method", "setup_intent.mandate"]},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        intent = _get(session, "setup_intent")
        method = _get(intent, "payment_method")
        if _get(session, "status") != "complete" or _get(intent, "status") != "succeeded":
            return None
        if method is None or isinstance(method, str):
            raise GatewayUnreachable(f"setup session {session_id} has no payment method yet")
        customer = _get(session, "customer")
        customer_id = customer if isinstance(customer, str) else str(_get(customer, "id"))
        kind = _get(method, "type")
        if kind == "card":
            card = _get(method, "card")
            return SavedMethod(
                customer_id=customer_id,
                payment_method_id=method.id,
                kind="card",
                brand=str(_get(card, "brand") or ""),
                last4=str(_get(card, "last4") or ""),
                exp_month=_get(card, "exp_month"),
                exp_year=_get(card, "exp_year"),
            )
        if kind == "sepa_debit":
            mandate = _get(intent, "mandate")
            details = _get(_get(mandate, "payment_method_details"), "sepa_debit")
            return SavedMethod(
                customer_id=customer_id,
                payment_method_id=method.id,
                kind="sepa_debit",
                last4=str(_get(_get(method, "sepa_debit"), "last4") or ""),
                mandate_reference=str(_get(details, "reference") or ""),
            )
        raise GatewayDeclined(f"this kind of payment method ({kind}) is not accepted")

    def method_detach(self, *, method: PaymentMethod) -> None:
        client = self._paced()
        try:
            _call(
                "detach",
                lambda: client.v1.payment_methods.detach(
                    method.payment_method_id,
                    options={"idempotency_key": f"detach:{method.payment_method_id}"},
                ),
            )
        except stripe.InvalidRequestError as exc:
            # Already detached or deleted: what we wanted.
            logger.info("payment method %s: %s", method.payment_method_id, exc)
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc

    # --- charges --------------------------------------------------------------

    def charge_off_session(
        self,
        *,
        method: PaymentMethod,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        statement_descriptor: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        client = self._paced()
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency,
            "customer": method.customer_id,
            "payment_method": method.payment_method_id,
            "allowed_payment_method_types": [method.kind],
            "confirm": True,
            "off_session": True,
            "transfer_group": transfer_group,
            # Our key, so the charge can be found if the key is ever pruned
            # before we know what it made (``charge_find``).
            "metadata": {**metadata, "key": idempotency_key},
            "expand": ["latest_charge.balance_transaction"],
        }
        suffix = descriptor_suffix(statement_descriptor)
        if method.kind == "card" and suffix:
            # Cards show the account's prefix and this suffix; SEPA debits
            # show the account's descriptor.
            params["statement_descriptor_suffix"] = suffix
        try:
            intent = _call(
                f"charge {idempotency_key}",
                lambda: client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_obj = _get(error, "payment_intent")
            return _declined(error, str(_get(intent_obj, "id") or ""))
        except stripe.InvalidRequestError as exc:
            # A payment method Stripe no longer knows (detached, deleted):
            # nothing to retry until the supporter saves a new one.
            if exc.code in ("resource_missing", "payment_method_unusable") or (
                exc.param or ""
            ).startswith("payment_method"):
                logger.warning("charge %s: %s", idempotency_key, exc)
                error = exc.error
                return ChargeResult(
                    status=ChargeStatus.FAILED,
                    payment_intent_id=str(_get(_get(error, "payment_intent"), "id") or ""),
                    reason="payment_method_unusable",
                    retryable=False,
                )
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return intent_result(intent)

    def charge_find(
        self,
        *,
        method: PaymentMethod,
        idempotency_key: str,
        amount_cents: int,
        since: dt.datetime,
    ) -> ChargeResult | None:
        """``GET /v1/payment_intents?customer=...&created[gte]=...``, every
        page within one deadline, matched by ``metadata.key``. The list, not
        the Search API: search results can lag behind by a minute or more
        (docs.stripe.com/search, "Data freshness") and the list is exact."""
        client = self._paced()

        def page(starting_after: str | None) -> Any:
            params: dict[str, Any] = {
                "customer": method.customer_id,
                "created": {"gte": int(since.timestamp())},
                "limit": 100,
                "expand": ["data.latest_charge.balance_transaction"],
            }
            if starting_after:
                params["starting_after"] = starting_after
            return client.v1.payment_intents.list(params=params)  # type: ignore[arg-type]

        try:
            intent = _found_by_key(f"charge lookup {idempotency_key}", page, idempotency_key)
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        if intent is None:
            return None
        if _get(intent, "amount") != amount_cents:
            logger.error(
                "charge lookup %s: %s is for %s cents, not %s",
                idempotency_key,
                _get(intent, "id"),
                _get(intent, "amount"),
                amount_cents,
            )
        return intent_result(intent)

    def charge_refresh(
        self, *, payment_intent_id: str, deadline: float | None = None
    ) -> ChargeResult:
        client = self._paced(deadline=deadline)
        try:
            intent = _call(
                f"refresh {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return intent_result(intent)

    def charge_cancel(self, *, payment_intent_id: str) -> ChargeResult | None:
        """``POST /v1/payment_intents/<id>/cancel`` (key ``cancel:<id>``,
        reason ``abandoned``). Stripe refuses to cancel an intent that
        succeeded or is processing (400 ``payment_intent_unexpected_state``):
        then its state is read and returned (the supporter confirmed first)."""
        client = self._paced()
        try:
            _call(
                f"cancel {payment_intent_id}",
                lambda: client.v1.payment_intents.cancel(
                    payment_intent_id,
                    params={"cancellation_reason": "abandoned"},
                    options={"idempotency_key": f"cancel:{payment_intent_id}"},
                ),
            )
            return None
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        try:
            intent = _call(
                f"refresh {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        if _get(intent, "status") == "canceled":
            return None
        return intent_result(intent)

    def charge_confirm_url(self, *, payment_intent_id: str, return_url: str) -> str:
        """Stripe's hosted authentication page for a charge that needs the
        supporter: the PaymentIntent is confirmed again on session with a
        ``return_url`` and Stripe answers ``next_action.redirect_to_url``
        (docs.stripe.com: "Manually handle 3D Secure redirects")."""
        client = self._paced()
        try:
            intent = _call(
                f"confirm page {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(payment_intent_id),
            )
            if intent.status in ("succeeded", "processing"):
                return return_url
            url = _get(_get(_get(intent, "next_action"), "redirect_to_url"), "url")
            if intent.status == "requires_action" and url:
                return str(url)
            confirm: dict[str, Any] = {"return_url": return_url}
            method = _get(intent, "payment_method") or _get(
                _get(intent, "last_payment_error"), "payment_method"
            )
            method_id = method if isinstance(method, str) else _get(method, "id")
            if method_id:
                confirm["payment_method"] = method_id
            intent = _call(
                f"confirm {payment_intent_id}",
                lambda: client.v1.payment_intents.confirm(
                    payment_intent_id,
                    params=confirm,  # type: ignore[arg-type]
                ),
            )
        except stripe.CardError as exc:
            raise GatewayDeclined(exc.user_message or "the card was declined") from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        if intent.status in ("succeeded", "processing"):
            return return_url
        url = _get(_get(_get(intent, "next_action"), "redirect_to_url"), "url")
        if not url:
            raise GatewayDeclined("Stripe offered no page to confirm this payment")
        return str(url)

    # --- transfers ------------------------------------------------------------

    def transfer_send(
        self,
        *,
        destination: str | None,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
    ) -> str:
        if not destination:
            raise GatewayDeclined("the creator's payout account is not connected to Stripe")
        client = self._paced()
        try:
            transfer = _call(
                f"transfer {idempotency_key}",
                lambda: client.v1.transfers.create(
                    params={
                        "amount": amount_cents,
                        "currency": currency,
                        "destination": destination,
                        "transfer_group": transfer_group,
                        "metadata": {"key": idempotency_key},
                    },
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.InvalidRequestError as exc:
            if exc.code == "balance_insufficient":
                # Collected money not available yet: the same key, later.
                raise GatewayUnreachable(f"transfer {idempotency_key}: {exc}") from exc
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return transfer.id

    def transfer_find(
        self,
        *,
        destination: str | None,
        idempotency_key: str,
        transfer_group: str,
        since: dt.datetime,
    ) -> str | None:
        """``GET /v1/transfers?destination=...&transfer_group=...&created[gte]=...``
        (a run's group holds a transfer per creator and settlement: the
        destination keeps the list short), matched by ``metadata.key``."""
        if not destination:
            return None
        client = self._paced()

        def page(starting_after: str | None) -> Any:
            params: dict[str, Any] = {
                "destination": destination,
                "transfer_group": transfer_group,
                "created": {"gte": int(since.timestamp())},
                "limit": 100,
            }
            if starting_after:
                params["starting_after"] = starting_after
            return client.v1.transfers.list(params=params)  # type: ignore[arg-type]

        try:
            transfer = _found_by_key(f"transfer lookup {idempotency_key}", page, idempotency_key)
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return str(_get(transfer, "id")) if transfer is not None else None

    def transfer_reversal_find(
        self, *, transfer_id: str, idempotency_key: str, since: dt.datetime
    ) -> str | None:
        """``GET /v1/transfers/<id>/reversals`` (a transfer has few), matched
        by ``metadata.key``."""
        client = self._paced()

        def page(starting_after: str | None) -> Any:
            params: dict[str, Any] = {"limit": 100}
            if starting_after:
                params["starting_after"] = starting_after
            return client.v1.transfers.reversals.list(transfer_id, params=params)  # type: ignore[arg-type]

        try:
            reversal = _found_by_key(f"reversal lookup {idempotency_key}", page, idempotency_key)
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return str(_get(reversal, "id")) if reversal is not None else None

    def transfer_reverse(self, *, transfer_id: str, amount_cents: int, idempotency_key: str) -> str:
        client = self._paced()
        try:
            reversal = _call(
                f"reversal {idempotency_key}",
                lambda: client.v1.transfers.reversals.create(
                    transfer_id,
                    params={"amount": amount_cents, "metadata": {"key": idempotency_key}},
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return reversal.id
