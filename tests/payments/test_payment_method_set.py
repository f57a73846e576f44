"""``manage.py payment_method_set EMAIL PM_ID``: test mode only, saves as
the setup flow would; bad input is one line and exit 1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from payments.models import PaymentMethod, PaymentMethodStatus
from tests.conftest import database_url_for_subprocess

pytestmark = pytest.mark.django_db


def test_saves_a_test_method_and_replaces_the_active_one(user, test_mode, after_mode):
    call_command("payment_method_set", user.email, "pm_card_visa")
    call_command("payment_method_set", user.email.upper(), "pm_sepa_debit_failure")
    methods = {m.payment_method_id: m for m in PaymentMethod.objects.filter(user=user)}
    assert methods["pm_card_visa"].status == PaymentMethodStatus.REMOVED
    sepa = methods["pm_sepa_debit_failure"]
    assert (sepa.status, sepa.kind, sepa.last4, sepa.gateway) == (
        PaymentMethodStatus.ACTIVE,
        "sepa_debit",
        "3001",
        "test",
    )
    assert sepa.mandate_reference
    assert sepa.customer_id == f"test_cus_{user.pk}"


@pytest.mark.django_db(transaction=True)
def test_saving_sends_the_signal_funding_listens_to(user, test_mode, saved_signals):
    call_command("payment_method_set", user.email, "pm_card_authenticationRequired")
    method = PaymentMethod.objects.get(user=user)
    assert saved_signals == [(user.pk, method.pk)]


@pytest.mark.parametrize(
    ("email", "pm_id", "message"),
    [
        ("nobody@example.org", "pm_card_visa", "no user with e-mail"),
        (None, "pm_card_nope", "unknown test payment method"),
    ],
)
def test_unknown_email_or_method_is_refused(user, test_mode, email, pm_id, message):
    with pytest.raises(CommandError, match=message):
        call_command("payment_method_set", email or user.email, pm_id)
    assert not PaymentMethod.objects.exists()


def test_refused_when_stripe_is_the_gateway(user, settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    with pytest.raises(CommandError, match="only with the test-mode gateway"):
        call_command("payment_method_set", user.email, "pm_card_visa")
    settings.STRIPE_SECRET_KEY = ""
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG on"):
        call_command("payment_method_set", user.email, "pm_card_visa")


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_refusal_is_one_line_and_exit_1(user):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "DEBUG": "0",
        "STRIPE_SECRET_KEY": "",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "payment_method_set", user.email, "pm_card_visa"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "test-mode gateway" in done.stderr
