"""Staff adjustments are bounded, never overflow, and never show who made
them on the supporter's statement."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ledger import selectors, services
from ledger.models import AccountKind, Transaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HUGE = "1234567890123456789012345678901234567890"  # 40 digits


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")


@pytest.fixture
def supporter():
    return UserFactory(email="sam@example.org")


class TestBounds:
    def test_the_service_refuses_beyond_the_maximum_either_way(self, staff, supporter, settings):
        assert settings.FLATTR_MAX_ADJUSTMENT_CENTS == 1_000_000
        services.wallet_adjust(user=supporter, amount_cents=1_000_000, reason="x", staff=staff)
        for cents in (1_000_001, -1_000_001, 10**40, 9_223_372_036_854_775_807):
            with pytest.raises(services.AdjustmentRefused, match="10,000.00|10000.00"):
                services.wallet_adjust(user=supporter, amount_cents=cents, reason="x", staff=staff)
        assert selectors.wallet_balance(user=supporter) == 1_000_000
        assert Transaction.objects.count() == 1

    def test_a_balance_that_would_overflow_is_refused_not_a_500(self, staff, supporter, settings):
        settings.FLATTR_MAX_ADJUSTMENT_CENTS = 2**63 - 1
        services.wallet_adjust(user=supporter, amount_cents=2**63 - 1, reason="x", staff=staff)
        with pytest.raises(services.AdjustmentRefused, match="overflow"):
            services.wallet_adjust(user=supporter, amount_cents=1, reason="x", staff=staff)
        assert selectors.wallet_balance(user=supporter) == 2**63 - 1
        assert Transaction.objects.count() == 1

    @pytest.mark.parametrize("amount", ["10000.01", "-10000.01", HUGE, "+92233720368547758.07"])
    def test_the_command_refuses_with_one_line(self, staff, supporter, amount):
        with pytest.raises(CommandError) as error:
            call_command(
                "wallet_adjust", "sam@example.org", amount, "--reason", "x", "--by", staff.email
            )
        assert "\n" not in str(error.value)
        assert "10,000.00" in str(error.value) or "10000.00" in str(error.value)
        assert not Transaction.objects.exists()

    @pytest.mark.parametrize("amount", ["10000.01", "-10000.01", HUGE, "+92233720368547758.07"])
    def test_the_admin_form_refuses_with_a_form_error(self, client, staff, supporter, amount):
        wallet = services.wallet_account(user=supporter)
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
        for confirm in ({}, {"confirm": "1"}):
            response = client.post(
                url,
                {"amount": amount, "reason": "x", "idempotency_key": "adjustment:k", **confirm},
            )
            assert response.status_code == 200
            assert "maximum" in " ".join(response.context["form"].errors["amount"])
        assert not Transaction.objects.exists()


class TestStatement:
    def test_the_statement_shows_staff_adjustment_and_the_reason_never_the_email(
        self, client, staff, supporter
    ):
        services.wallet_adjust(
            user=supporter, amount_cents=500, reason="Goodwill credit", staff=staff
        )
        txn = Transaction.objects.get(kind="adjustment")
        assert txn.created_by == staff  # who did it stays on record, for staff
        client.force_login(supporter)
        page = client.get(reverse("wallet")).content.decode()
        assert "Staff adjustment" in page and "Goodwill credit" in page
        assert "boss@example.org" not in page and "boss" not in page

    def test_older_adjustments_hide_the_email_too(self, client, staff, supporter):
        services.transaction_post(
            kind="adjustment",
            idempotency_key="adjustment:old",
            legs=[
                (services.wallet_account(user=supporter), 300),
                (services.platform_account(kind=AccountKind.OUTSIDE, ref="adjustments"), -300),
            ],
            memo="Late top-up (by boss@example.org)",
            created_by=staff,
        )
        client.force_login(supporter)
        page = client.get(reverse("wallet")).content.decode()
        assert "Late top-up" in page and "boss@example.org" not in page
