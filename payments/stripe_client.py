"""The one place that builds Stripe clients.

Tests replace Stripe's HTTP transport (never our code) by setting
``HTTP_CLIENT_FACTORY`` to a callable returning a ``stripe.HTTPClient``.
"""

from __future__ import annotations

from collections.abc import Callable

import stripe
from django.conf import settings

# Set by tests to a factory returning a fake stripe.HTTPClient.
HTTP_CLIENT_FACTORY: Callable[[], stripe.HTTPClient] | None = None


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def get_client() -> stripe.StripeClient:
    if not stripe_enabled():
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    http_client = HTTP_CLIENT_FACTORY() if HTTP_CLIENT_FACTORY else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=http_client,
        max_network_retries=2,
    )
