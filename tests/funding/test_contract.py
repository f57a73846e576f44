"""Issue 24's contract through the commands only: ways to pay saved with
``payment_method_set``, the month computed and approved, ``payout_settle``."""

import io

import pytest
from django.core.management import call_command

from funding.models import Charge, ChargeStatus
from ledger.selectors import ledger_problems
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import P, approve, ready, settle

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_month_after_the_month_through_the_commands(after):
    # Without the SEPA advance-notice hold the debits are processing at the
    # first payout_settle and final at the next; with it (the default, two
    # days) that is the first payout_settle on or after the debit date the
    # notice named (tests/funding/test_sepa_hold.py).
    after.FLATTR_SEPA_NOTICE_DAYS = 0
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    claire = UserFactory(email="claire@example.org")
    ready(claire)
    paths = {
        "visa@example.org": "pm_card_visa",
        "sca@example.org": "pm_card_authenticationRequired",
        "poor@example.org": "pm_card_chargeDeclinedInsufficientFunds",
        "fail@example.org": "pm_card_chargeCustomerFail",
        "dispute@example.org": "pm_card_createDispute",
        "sepa@example.org": "pm_sepa_debit_success",
        "sepafail@example.org": "pm_sepa_debit_failure",
    }
    for email, pm in paths.items():
        user = UserFactory(email=email, monthly_budget_cents=200)
        flattr(user, thing(owner=claire), P)
        call_command("payment_method_set", email, pm, stdout=io.StringIO())
    nobody = UserFactory(monthly_budget_cents=200)
    flattr(nobody, thing(owner=None), P)
    approve()
    # Charging was queued at approval (workers are eager in tests).
    first = settle()
    assert first["charged"] == {"count": 7, "cents": 1400}
    assert first["succeeded"] == {"count": 2, "cents": 400}
    assert first["waiting"] == {"count": 3, "cents": 600}
    assert first["failed"] == {"count": 2, "cents": 400}
    assert first["pledged"] == {"count": 1, "cents": 200}
    assert first["disputed"] == {"count": 1, "cents": 200}
    # Collected 400 less 200 disputed: Claire received 200 - 20.
    assert first["transferred"]["cents"] == 180
    assert first["conservation_ok"] is True
    second = settle()
    assert second["succeeded"] == {"count": 3, "cents": 600}
    assert second["waiting"] == {"count": 1, "cents": 200}
    assert second["failed"] == {"count": 3, "cents": 600}
    assert second["transferred"]["cents"] == 360
    assert second["conservation_ok"] is True
    assert settle() == second
    assert Charge.objects.filter(status=ChargeStatus.REQUIRES_ACTION).count() == 1
    assert ledger_problems() == []
