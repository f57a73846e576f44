"""Registry of Stripe webhook handlers.

Apps register a handler per event type::

    from payments.webhooks import register

    @register("transfer.reversed")
    def on_transfer_reversed(event: dict) -> None: ...

A handler that must ask Stripe something first registers a ``fetch``: it
runs before the database transaction opens (no HTTP inside a transaction)
and its dict is passed to the handler as keyword arguments.

The webhook view (payments.views) verifies the signature, stores the event id
once, and calls the handler inside the same database transaction, so a
replayed or concurrent duplicate event runs no handler twice. Unknown types are
acknowledged and ignored. A handler raising ``WebhookRefused`` has its refusal
logged and recorded; nothing it wrote is kept. One raising
``WebhookDeferred`` keeps nothing either (not even the event id) and is
answered 503, so Stripe delivers the event again later.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[..., None]
# An after-mode handler: given the whole event (and what its fetcher
# returned, as keyword arguments), handles it and returns True when its
# ``data.object`` is one of its charges, False when it is not.
AfterModeHandler = Callable[..., bool]
Fetch = Callable[[dict], dict]
HANDLERS: dict[str, Handler] = {}
FETCHERS: dict[str, Fetch] = {}


# Events of pay-after-the-month charges, handled by ``funding`` (which
# payments may not import): funding/apps.py ``ready()`` fills this dict,
# one handler per event type of AFTER_MODE_EVENTS. Each runs inside the
# webhook's transaction (no processor call there) after the event id was
# stored once, so a replayed event never reaches it twice; it must also
# accept a late or out-of-order event (moving money once). An event for no
# charge of ours (the handler returns False, or none is registered) is
# logged and recorded as refused, answered 200.
AFTER_MODE_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "charge.dispute.created",
    "charge.refunded",
)
after_mode_handlers: dict[str, AfterModeHandler] = {}
# An after-mode event's ``fetch``, run before the webhook's transaction
# opens (it may ask the processor: the fee of a charge that succeeded);
# its dict reaches the handler as keyword arguments. Filled by funding too.
after_mode_fetchers: dict[str, Fetch] = {}


class WebhookRefused(Exception):
    """The event is understood but refused (unknown object, amount mismatch)."""


class WebhookDeferred(Exception):
    """The event cannot be handled yet (it depends on an outcome still in
    flight, such as a refund being made): nothing is kept, the view answers
    503 and Stripe delivers the event again later."""


class WebhookMalformed(ValueError):
    """A signed event that is not the shape its type promises: answered 400
    (retrying cannot help) and kept for audit."""

    def __init__(self, message: str, *, event_id: str = "", event_type: str = "", payload=""):
        super().__init__(message)
        self.event_id, self.event_type, self.payload = event_id, event_type, payload


def register(*event_types: str, fetch: Fetch | None = None) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        for event_type in event_types:
            HANDLERS[event_type] = func
            if fetch is not None:
                FETCHERS[event_type] = fetch
        return func

    return decorator


def handler_for(event_type: str) -> Handler | None:
    return HANDLERS.get(event_type)


def fetcher_for(event_type: str) -> Fetch | None:
    return FETCHERS.get(event_type)
