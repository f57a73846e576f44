"""Calling the processor from funding: one place for 429s."""

from __future__ import annotations

import time
from typing import Any

from payments.gateways.base import GatewayRateLimited, GatewayUnreachable

# How often one call is retried after a 429 before it is left for the next pass.
RATE_LIMIT_TRIES = 8


def call_paced(call: Any, /, **kwargs: Any) -> Any:
    """``call(**kwargs)``; after a 429 wait its ``Retry-After`` and call
    again with the same arguments (same key). Every processor call of
    funding passes here. The pacing itself is the gateway's: Stripe's
    after-mode calls send each HTTP request through the shared limiter
    (``payments.limiter.stripe_slot`` in ``stripe_client.PacedHTTPClient``,
    STRIPE_MAX_REQUESTS_PER_SECOND for all workers together), so a call is
    never counted twice."""
    for tries in range(RATE_LIMIT_TRIES):
        try:
            return call(**kwargs)
        except GatewayRateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else min(2**tries * 0.1, 5)
            time.sleep(wait)
    raise GatewayUnreachable("rate limited too many times; left for the next pass")
