"""The one place that builds Stripe clients.

Tests replace Stripe's HTTP transport (never our code) by setting
``HTTP_CLIENT_FACTORY`` to a callable returning a ``stripe.HTTPClient``, or
point the real transport at a local server of theirs with
``STRIPE_API_BASE``.

``get_paced_client()`` is for the calls of pay-after-the-month, which come in
millions: each HTTP request it sends (the library's own retries included)
first takes a slot of the shared limiter (``payments.limiter``), and no
request starts after the call's deadline and each request's timeouts are
cut to what is left of it, so one gateway call ends by its deadline (plus
the library's short sleep before its one retry and the time a slow answer
takes between two reads, each at most what is left) however Stripe
behaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import stripe
from django.conf import settings

if TYPE_CHECKING:
    from stripe._base_address import BaseAddresses

# Set by tests to a factory returning a fake stripe.HTTPClient.
HTTP_CLIENT_FACTORY: Callable[[], stripe.HTTPClient] | None = None

# Seconds to connect and to wait for each read of one request.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
# Seconds one paced gateway call may take, limiter waits and retries included.
DEADLINE = 60.0

_transport_local = threading.local()


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _base_addresses() -> BaseAddresses | None:
    base = getattr(settings, "STRIPE_API_BASE", "")
    return {"api": base.rstrip("/")} if base else None


def _transport() -> stripe.HTTPClient:
    """This thread's transport: a fake of the tests', else a requests client
    kept per thread, so connections to Stripe are reused across calls."""
    if HTTP_CLIENT_FACTORY:
        return HTTP_CLIENT_FACTORY()
    client = getattr(_transport_local, "client", None)
    if client is None:
        client = _transport_local.client = stripe.RequestsClient(
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
        )
    return client


def get_client() -> stripe.StripeClient:
    if not stripe_enabled():
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    http_client = HTTP_CLIENT_FACTORY() if HTTP_CLIENT_FACTORY else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=http_client,
        base_addresses=_base_addresses(),
        max_network_retries=2,
    )


class PacedHTTPClient(stripe.HTTPClient):
    """Sends each request through the shared limiter, before a deadline."""

    name = "paced"

    def __init__(self, inner: stripe.HTTPClient, deadline: float) -> None:
        super().__init__()
        self.inner = inner
        self.deadline = deadline

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from payments.limiter import stripe_slot

        left = self.deadline - time.monotonic()
        if left <= 0:
            raise stripe.APIConnectionError("the call's deadline passed before Stripe answered")
        stripe_slot(timeout=left)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise stripe.APIConnectionError("the call's deadline passed before Stripe answered")
        if isinstance(self.inner, stripe.RequestsClient):
            # No request outlives the call's deadline: its timeouts are
            # what is left of it (at most CONNECT_TIMEOUT / READ_TIMEOUT).
            # The transport is this thread's own, so setting it is safe.
            self.inner._timeout = (min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))
        return self.inner.request(method, url, headers, post_data)

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError("paced calls do not stream")

    def close(self):
        pass


def get_paced_client(*, deadline: float | None = None) -> stripe.StripeClient:
    if not stripe_enabled():
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    if deadline is None:
        deadline = DEADLINE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=PacedHTTPClient(_transport(), time.monotonic() + deadline),
        base_addresses=_base_addresses(),
        max_network_retries=1,
    )
