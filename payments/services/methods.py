"""Saving a way to pay (``FLATTR_FUNDING=after``): a card or a SEPA Direct
Debit mandate, saved once through the processor's Checkout in setup mode,
for off-session charges after each month.

The flow, with no processor call inside a database transaction:
``payment_method_setup_start`` commits a ``PaymentMethodSetup`` (one pending
per supporter: a second click reuses it), finds or creates the supporter's
one Customer (key ``customer:<user id>``), asks for a setup session (key
``setup:<setup id>``) and records it. The supporter comes back to a return
address signed for that setup and that user; ``payment_method_setup_finish``
asks the processor what was saved and ``payment_method_save`` stores it
(replacing the active one). The ``checkout.session.completed`` webhook saves
through the same function; whichever comes second finds it saved.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from payments.gateways import GatewayError, GatewayUnavailable, gateway_current, gateway_get
from payments.gateways.base import SavedMethod
from payments.models import (
    SETUP_LIFETIME,
    PaymentMethod,
    PaymentMethodSetup,
    PaymentMethodStatus,
    SetupStatus,
)
from payments.services.topups import site_url
from payments.signals import payment_method_saved

logger = logging.getLogger(__name__)

_SALT = "payments.setup-return"
# A return address is good for as long as the processor's session.
_RETURN_MAX_AGE = 24 * 3600


class MethodRefused(Exception):
    """Saving or removing cannot be done; the message is safe to show."""


class MethodPending(Exception):
    """The processor has not confirmed the setup yet; ask again shortly."""


def funding_after() -> bool:
    return settings.FLATTR_FUNDING == "after"


def _ensure_after_mode() -> None:
    if not funding_after():
        raise MethodRefused(
            _("This site is funded by prepaid wallets: there is no way to pay to save.")
        )


def setup_return_url(setup: PaymentMethodSetup) -> str:
    """Where the processor sends the supporter back: signed for this setup and
    this user; ``{CHECKOUT_SESSION_ID}`` is filled in by Stripe."""
    token = signing.dumps({"s": setup.pk, "u": setup.user_id}, salt=_SALT)
    return site_url(reverse("payment_method_return"), {"setup": token}) + (
        "&session_id={CHECKOUT_SESSION_ID}"
    )


def _customer_known(*, user: User, gateway_name: str) -> str:
    """The supporter's Customer from a method or setup saved before."""
    for model in (PaymentMethod, PaymentMethodSetup):
        customer = (
            model.objects.filter(user=user, gateway=gateway_name)
            .exclude(customer_id="")
            .order_by("-pk")
            .values_list("customer_id", flat=True)
            .first()
        )
        if customer:
            return customer
    return ""


def _pending_setup(*, user: User, gateway_name: str) -> PaymentMethodSetup:
    """The supporter's one pending setup, created when there is none."""
    with transaction.atomic(durable=True):
        PaymentMethodSetup.objects.filter(
            user=user,
            status=SetupStatus.PENDING,
            created_at__lt=timezone.now() - SETUP_LIFETIME,
        ).update(status=SetupStatus.EXPIRED)
        # Another gateway's pending setup (the configuration changed) ends.
        PaymentMethodSetup.objects.filter(user=user, status=SetupStatus.PENDING).exclude(
            gateway=gateway_name
        ).update(status=SetupStatus.EXPIRED)
        setup = PaymentMethodSetup.objects.filter(user=user, status=SetupStatus.PENDING).first()
        if setup is not None:
            return setup
        try:
            with transaction.atomic():
                return PaymentMethodSetup.objects.create(user=user, gateway=gateway_name)
        except IntegrityError:
            # A second click, concurrently: it created the one pending setup.
            return PaymentMethodSetup.objects.get(user=user, status=SetupStatus.PENDING)


def payment_method_setup_start(*, user: User) -> str:
    """Where to send the supporter to save a card or a SEPA mandate."""
    _ensure_after_mode()
    gateway = gateway_current()
    try:
        gateway.ensure_available()
    except GatewayUnavailable as exc:
        raise MethodRefused(_("Saving a way to pay is not available right now.")) from exc
    setup = _pending_setup(user=user, gateway_name=gateway.name)
    if setup.url:
        return setup.url
    customer_id = setup.customer_id or _customer_known(user=user, gateway_name=gateway.name)
    if not customer_id:
        customer_id = gateway.customer_ensure(user_id=user.pk, email=user.email)
        # Kept at once: a retry after a failed session start reuses it even
        # once Stripe has forgotten the ``customer:<id>`` key (24 hours).
        with transaction.atomic(durable=True):
            PaymentMethodSetup.objects.filter(pk=setup.pk).update(customer_id=customer_id)
    checkout = gateway.setup_start(
        customer_id=customer_id,
        idempotency_key=f"setup:{setup.pk}",
        success_url=setup_return_url(setup),
        cancel_url=site_url(reverse("payment_method"), {"cancelled": "1"}),
    )
    with transaction.atomic(durable=True):
        PaymentMethodSetup.objects.filter(pk=setup.pk).update(
            customer_id=customer_id,
            session_id=checkout.session_id,
            url=checkout.url,
            updated_at=timezone.now(),
        )
    return checkout.url


def _refused_link() -> MethodRefused:
    return MethodRefused(_("This return link is not valid for your account. Nothing was saved."))


def payment_method_setup_finish(*, user: User, token: str, session_id: str) -> PaymentMethod:
    """The supporter is back from the processor: save what they chose.
    MethodRefused for a tampered or foreign link, MethodPending while the
    processor has not confirmed."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=_RETURN_MAX_AGE)
    except signing.BadSignature as exc:
        raise _refused_link() from exc
    if not isinstance(data, dict) or data.get("u") != user.pk or not isinstance(data.get("s"), int):
        raise _refused_link()
    setup = PaymentMethodSetup.objects.filter(pk=data["s"], user=user).first()
    if setup is None or not setup.session_id or setup.session_id != session_id:
        raise _refused_link()
    if setup.status == SetupStatus.COMPLETED:
        method = PaymentMethod.objects.filter(setup_session_id=setup.session_id).first()
        if method is not None:
            return method
    if setup.status == SetupStatus.EXPIRED:
        raise MethodRefused(_("This setup expired. Nothing was saved; please start again."))
    saved = gateway_get(setup.gateway).setup_result(session_id=setup.session_id)
    if saved is None:
        raise MethodPending()
    return payment_method_save(
        user=user, gateway_name=setup.gateway, saved=saved, setup_session_id=setup.session_id
    )


def _detach(method_ids: list[int]) -> None:
    for method in PaymentMethod.objects.filter(pk__in=method_ids):
        try:
            gateway_get(method.gateway).method_detach(method=method)
        except GatewayError as exc:
            # It can no longer be charged by us either way (removed here).
            logger.warning("could not detach payment method %s: %s", method.pk, exc)


@transaction.atomic
def payment_method_save(
    *, user: User, gateway_name: str, saved: SavedMethod, setup_session_id: str | None = None
) -> PaymentMethod:
    """Store what a setup saved as the supporter's active way to pay; the one
    it replaces is removed (and detached once this commits). Saving the same
    setup again returns the method saved the first time."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    if setup_session_id:
        existing = PaymentMethod.objects.filter(setup_session_id=setup_session_id).first()
        if existing is not None:
            return existing
    replaced = list(
        PaymentMethod.objects.filter(user=user)
        .exclude(status=PaymentMethodStatus.REMOVED)
        .exclude(payment_method_id=saved.payment_method_id)
        .values_list("pk", flat=True)
    )
    PaymentMethod.objects.filter(user=user).exclude(status=PaymentMethodStatus.REMOVED).update(
        status=PaymentMethodStatus.REMOVED, updated_at=timezone.now()
    )
    method = PaymentMethod.objects.create(
        user=user,
        gateway=gateway_name,
        customer_id=saved.customer_id,
        payment_method_id=saved.payment_method_id,
        kind=saved.kind,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
        mandate_reference=saved.mandate_reference,
        setup_session_id=setup_session_id,
    )
    if setup_session_id:
        PaymentMethodSetup.objects.filter(session_id=setup_session_id).update(
            status=SetupStatus.COMPLETED,
            payment_method_id=saved.payment_method_id,
            updated_at=timezone.now(),
        )
    transaction.on_commit(lambda: _detach(replaced), robust=True)
    transaction.on_commit(
        lambda: payment_method_saved.send(sender=PaymentMethod, user=user, method=method),
        robust=True,
    )
    logger.info("user %s saved payment method %s (%s)", user.pk, method.pk, method.kind)
    return method


def payment_method_remove(*, user: User, method_id: int) -> PaymentMethod:
    """The supporter removes their way to pay; it is detached at the
    processor after the removal commits."""
    with transaction.atomic(durable=True):
        method = (
            PaymentMethod.objects.select_for_update()
            .filter(pk=method_id, user=user)
            .exclude(status=PaymentMethodStatus.REMOVED)
            .first()
        )
        if method is None:
            raise MethodRefused(_("This way to pay was already removed."))
        method.status = PaymentMethodStatus.REMOVED
        method.save(update_fields=["status", "updated_at"])
    _detach([method.pk])
    return method
