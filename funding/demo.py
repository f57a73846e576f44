"""Demo data of pay after the month (``FLATTR_FUNDING=after make run``).

``seed`` (before payouts' seeder) saves test ways to pay, as
``payment_method_set`` does: sophie a Visa (``pm_card_visa``), marc a SEPA
mandate (``pm_sepa_debit_success``), the patron a card that needs 3D Secure
on every charge (``pm_card_authenticationRequired``), saved after the
demo's posted month was settled so that the creators were paid, then its
charge waits for the patron's confirmation; Claire and David get
ready test payout accounts. ``seed_settle`` (after payouts' seeder)
settles the posted month: sophie's card charged and the creators paid
what it brought; marc's SEPA debit was announced when the month was
posted (the advance notice, ``FLATTR_SEPA_NOTICE_DAYS``) and waits for
the date it named (My months and the dashboard say "debited on <date>");
the beat sweep debits it then. Nothing happens in wallet mode."""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from funding.models import Charge, ChargeStatus, RunFunding
from funding.services import SettleError, charges_method_saved, run_settle
from payments.gateways.test import simulated_saved_method
from payments.models import Gateway, PaymentMethod, PaymentMethodStatus
from payments.services.methods import payment_method_save
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus
from payouts.models import RunStatus

METHODS = (("supporter1", "pm_card_visa"), ("supporter2", "pm_sepa_debit_success"))
LATER_METHODS = (("patron", "pm_card_authenticationRequired"),)
READY_CREATORS = ("creator1", "creator2")


def _save(user: User, pm: str) -> None:
    if PaymentMethod.objects.filter(
        user=user, status=PaymentMethodStatus.ACTIVE, payment_method_id=pm
    ).exists():
        return
    with transaction.atomic():
        payment_method_save(
            user=user,
            gateway_name=Gateway.TEST,
            saved=simulated_saved_method(customer_id=f"test_cus_{user.pk}", payment_method_id=pm),
        )


def seed(*, users: dict[str, User], stdout: TextIO) -> None:
    if settings.FLATTR_FUNDING != "after":
        return
    for key, pm in METHODS:
        if key in users:
            _save(users[key], pm)
            stdout.write(f"{users[key].email}: test way to pay {pm} saved.")
    for key in READY_CREATORS:
        if key in users:
            PayoutAccount.objects.get_or_create(
                user=users[key],
                defaults={
                    "stripe_account_id": f"acct_test_{users[key].pk}",
                    "status": PayoutAccountStatus.ENABLED,
                    "test_mode": True,
                },
            )


def seed_settle(*, users: dict[str, User], stdout: TextIO) -> None:
    if settings.FLATTR_FUNDING != "after":
        return
    now = timezone.now()
    for state in RunFunding.objects.filter(run__status=RunStatus.POSTED).select_related("run"):
        # The demo's posted month is months old: its FLATTR_TRANSFER_AFTER_DAYS
        # are over, whatever charge still waits (the patron's).
        RunFunding.objects.filter(pk=state.pk, transfers_from__gt=now).update(transfers_from=now)
        try:
            # Twice: a SEPA debit whose date has come is processing at the
            # first pass, final at the next (as Stripe's test IBANs behave);
            # one announced at posting still waits for its date.
            run_settle(run=state.run)
            run_settle(run=state.run)
        except SettleError as exc:
            stdout.write(f"Run {state.run.label} not settled: {exc}")
            continue
        stdout.write(f"Payout run {state.run.label} charged, settled and transferred.")
        for charge in Charge.objects.filter(run=state.run, status=ChargeStatus.HELD).select_related(
            "supporter"
        ):
            stdout.write(
                f"{charge.supporter.email}: SEPA debit announced, debited on"
                f" {timezone.localdate(charge.debit_from)} (FLATTR_SEPA_NOTICE_DAYS)."
            )
    later = False
    for key, pm in LATER_METHODS:
        if key in users:
            _save(users[key], pm)
            # What the saved signal does on commit: their waiting charge goes on.
            later |= bool(charges_method_saved(user=users[key]))
            stdout.write(f"{users[key].email}: test way to pay {pm} saved.")
    if later:
        # Tried now: the patron's charge waits for 3D Secure (an e-mail
        # with the confirm link, My months' "Confirm this payment").
        for state in RunFunding.objects.filter(run__status=RunStatus.POSTED).select_related("run"):
            run_settle(run=state.run)
