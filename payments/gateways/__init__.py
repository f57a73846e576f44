"""The border with outside money: one gateway interface, two implementations.

``gateway_current()`` is the gateway new top-ups and payout accounts use,
chosen once from settings (``PAYMENT_GATEWAY``: ``stripe`` or ``test``;
empty means Stripe when ``STRIPE_SECRET_KEY`` is set, else test mode), as
Saleor picks a payment plugin. Rows already written remember their gateway
(``TopUp.gateway``, ``PayoutAccount.test_mode``) and are finished by it
through ``gateway_get(name)``. Nothing else in the platform branches on
Stripe or ``DEBUG``.

Every method that talks to a processor is called outside any database
transaction, with an idempotency key derived from a row committed first
(``topup:<id>``, ``withdrawal:<id>``), so a retry after a crash gets the
first answer back instead of moving money twice.
"""

from __future__ import annotations

from django.conf import settings

from payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    GatewayRateLimited,
    GatewayUnavailable,
    GatewayUnreachable,
    PaymentGateway,
)
from payments.gateways.stripe import StripeGateway
from payments.gateways.test import TestModeGateway
from payments.models import Gateway

__all__ = [
    "GatewayDeclined",
    "GatewayError",
    "GatewayRateLimited",
    "GatewayUnavailable",
    "GatewayUnreachable",
    "PaymentGateway",
    "gateway_current",
    "gateway_get",
]

_GATEWAYS: dict[str, type[PaymentGateway]] = {
    Gateway.STRIPE: StripeGateway,
    Gateway.TEST: TestModeGateway,
}


def configured_name() -> str:
    name = getattr(settings, "PAYMENT_GATEWAY", "") or (
        Gateway.STRIPE if settings.STRIPE_SECRET_KEY else Gateway.TEST
    )
    if name not in _GATEWAYS:
        raise GatewayUnavailable(f"unknown PAYMENT_GATEWAY {name!r}; use stripe or test")
    return name


def gateway_get(name: str) -> PaymentGateway:
    """The gateway that wrote a row (``TopUp.gateway``); it finishes it."""
    gateway = _GATEWAYS[name]()
    gateway.current = name == configured_name()
    return gateway


def gateway_current() -> PaymentGateway:
    """The gateway that new top-ups and payout accounts use."""
    return gateway_get(configured_name())
