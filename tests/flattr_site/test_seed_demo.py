"""The demo data lets a newcomer try a withdrawal through review."""

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from ledger import selectors as ledger_selectors


@pytest.mark.django_db
def test_one_demo_creator_earns_more_than_the_review_threshold():
    call_command("seed_demo")
    claire = User.objects.get(email="claire@example.com")
    earnings = ledger_selectors.earnings_balance(user=claire)
    assert earnings > settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS
