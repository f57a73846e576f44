"""seed_demo: idempotent, and one demo creator earns more than the
withdrawal review threshold so review can be tried."""

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from ledger import selectors as ledger_selectors


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = {User: User.objects.count()}
    call_command("seed_demo")
    assert User.objects.count() == counts[User] == 6
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("flattr-demo")


@pytest.mark.django_db
def test_one_demo_creator_earns_more_than_the_review_threshold():
    call_command("seed_demo")
    claire = User.objects.get(email="claire@example.com")
    earnings = ledger_selectors.earnings_balance(user=claire)
    assert earnings > settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS
