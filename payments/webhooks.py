"""Registry of Stripe webhook handlers.

Apps register a handler per event type::

    from payments.webhooks import register

    @register("transfer.reversed")
    def on_transfer_reversed(event: dict) -> None: ...

The webhook view (payments.views) verifies the signature, stores the event id
once, and calls the handler inside the same database transaction, so a
replayed or concurrent duplicate event runs no handler twice. Unknown types are
acknowledged and ignored. A handler raising ``WebhookRefused`` has its refusal
logged and recorded; nothing it wrote is kept.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[dict], None]
HANDLERS: dict[str, Handler] = {}


class WebhookRefused(Exception):
    """The event is understood but refused (unknown object, amount mismatch)."""


def register(*event_types: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        for event_type in event_types:
            HANDLERS[event_type] = func
        return func

    return decorator


def handler_for(event_type: str) -> Handler | None:
    return HANDLERS.get(event_type)
