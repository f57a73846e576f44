"""Shared steps of the after-mode tests: ways to pay, ready creators, a
month computed, approved and settled through the commands."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import cast

from django.core.management import call_command

from accounts.models import User
from funding.models import Charge
from payments.models import Gateway, PaymentMethod, PaymentMethodKind
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus
from tests.factories import UserFactory, flattr, thing

P = dt.date(2026, 9, 1)
MONTH = "2026-09"


def method(user, pm: str = "pm_card_visa") -> PaymentMethod:
    """A saved way to pay, as ``payment_method_set`` saves it in test mode."""
    PaymentMethod.objects.filter(user=user, status="active").update(status="removed")
    sepa = pm.startswith("pm_sepa")
    return PaymentMethod.objects.create(
        user=user,
        gateway=Gateway.TEST,
        customer_id=f"cus_test_{user.pk}",
        payment_method_id=pm,
        kind=PaymentMethodKind.SEPA_DEBIT if sepa else PaymentMethodKind.CARD,
        brand="" if sepa else "visa",
        last4="3000" if sepa else "4242",
    )


def ready(user, account_id: str | None = None) -> PayoutAccount:
    """A creator whose connected account can receive transfers."""
    return PayoutAccount.objects.create(
        user=user,
        stripe_account_id=account_id or f"acct_test_{user.pk}",
        status=PayoutAccountStatus.ENABLED,
        test_mode=True,
    )


def approve(month: str = MONTH, by: str = "boss@example.org") -> None:
    call_command("payout_compute", month, stdout=io.StringIO())
    call_command("payout_approve", month, "--by", by, stdout=io.StringIO())


def settle(month: str = MONTH) -> dict:
    out = io.StringIO()
    call_command("payout_settle", month, stdout=out)
    return json.loads(out.getvalue())


def stripe_method(user, pm: str) -> PaymentMethod:
    sepa = pm.startswith("pm_sepa")
    return PaymentMethod.objects.create(
        user=user,
        gateway=Gateway.STRIPE,
        customer_id=f"cus_{user.pk}",
        payment_method_id=pm,
        kind=PaymentMethodKind.SEPA_DEBIT if sepa else PaymentMethodKind.CARD,
        brand="" if sepa else "visa",
        last4="3000" if sepa else "3184",
    )


def stripe_charged(pm: str, admin: str = "boss@example.org") -> Charge:
    """A creator and a supporter whose way to pay is Stripe's ``pm``; the
    month approved and settled once: the supporter's charge."""
    UserFactory(is_staff=True, is_superuser=True, email=admin)
    claire = cast(User, UserFactory())
    ready(claire)
    sophie = cast(User, UserFactory(monthly_budget_cents=1000))
    flattr(sophie, thing(owner=claire), P)
    stripe_method(sophie, pm)
    approve()
    settle()
    return Charge.objects.get()
