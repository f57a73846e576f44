"""How every call to Stripe is made, in wallet mode and in after mode: one
paced, deadline-bound client (``stripe_client.get_paced_client``) and one
wrapper (``call``) turning Stripe's transport trouble into the gateway's
errors.

- a 429 is ``GatewayRateLimited`` with Stripe's ``Retry-After``;
- a network failure, a timeout, a 5xx, the call's deadline passed, or no
  limiter slot in time is ``GatewayUnreachable``: call again later with the
  same idempotency key;
- a wrong key, a missing permission or an idempotency key reused with other
  parameters is ``GatewayDeclined`` (logged as an error: ours to fix);
- any other Stripe error (a card error, an invalid request) passes through
  for the gateway method to read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import stripe

from payments.gateways.base import GatewayDeclined, GatewayRateLimited, GatewayUnreachable

logger = logging.getLogger(__name__)

T = TypeVar("T")


class PacedCalls:
    """What the after-mode mixins call Stripe with: ``StripeGateway._paced``,
    the paced client, its deadline ``deadline`` seconds from now."""

    if TYPE_CHECKING:

        def _paced(self, *, deadline: float | None = None) -> stripe.StripeClient: ...


def retry_after(exc: stripe.StripeError) -> float | None:
    """Seconds Stripe asks us to wait (its ``Retry-After``), if it said."""
    value = (exc.headers or {}).get("Retry-After") if exc.headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def call(what: str, func: Callable[[], T]) -> T:
    """Run one Stripe call, turning transport trouble into gateway errors;
    other Stripe errors pass through for the caller to read."""
    try:
        return func()
    except stripe.RateLimitError as exc:
        raise GatewayRateLimited(f"{what}: Stripe rate limit", retry_after(exc)) from exc
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        raise GatewayUnreachable(f"{what}: {exc}") from exc
    except GatewayUnreachable:
        raise
    except (stripe.AuthenticationError, stripe.PermissionError, stripe.IdempotencyError) as exc:
        logger.error("%s refused by Stripe: %s", what, exc)
        raise GatewayDeclined(f"{what}: {exc.user_message or exc}") from exc
