"""Stripe in after mode, finding an object by our key once Stripe may have
pruned the key (a charge, transfer or reversal left in flight longer than
``KEY_SAFE_AGE``): Stripe's list endpoints, every page within one
deadline, matched by the key we put in ``metadata.key``. Part of
``StripeAfterModeMixin`` (``stripe_after``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import stripe

from payments.gateways.base import ChargeResult, GatewayDeclined
from payments.gateways.stripe_answers import field as _get
from payments.gateways.stripe_answers import intent_result
from payments.gateways.stripe_calls import PacedCalls
from payments.gateways.stripe_calls import call as _call

if TYPE_CHECKING:
    from payments.models import PaymentMethod

logger = logging.getLogger(__name__)


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


class StripeLookupsMixin(PacedCalls):
    """The lookups by key, for ``StripeAfterModeMixin``."""

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
