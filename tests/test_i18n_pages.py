"""The new supporter, creator and admin pages speak French."""

import pytest
from django.urls import reverse

from tests.factories import FlattrFactory, UserFactory
from tests.payouts.helpers import fund

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name, expected",
    [
        ("dashboard", "Prochain versement"),
        ("my_flattrs", "Mois précédents"),
        ("your_data", "Supprimer votre compte"),
        ("earnings", "Par création"),
    ],
)
def test_new_pages_in_french(client, name, expected):
    user = UserFactory(monthly_budget_cents=1000)
    fund(user, 763)
    FlattrFactory(supporter=user)
    client.force_login(user)
    page = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert expected in page


def test_outlook_in_french(client):
    user = UserFactory(monthly_budget_cents=1000)
    fund(user, 763)
    FlattrFactory(supporter=user)
    client.force_login(user)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "À la fin du mois, 7,63\xa0€ de votre budget de 10,00\xa0€" in page


def test_admin_models_fields_and_statuses_in_french(client, staff):
    from payments.withdrawals.models import Withdrawal, WithdrawalStatus

    withdrawal = Withdrawal.objects.create(
        user=UserFactory(), amount_cents=1234, status=WithdrawalStatus.PAID
    )
    client.force_login(staff)
    listing = client.get(
        reverse("admin:withdrawals_withdrawal_changelist"), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Montant" in listing and "12,34\xa0€" in listing
    detail = client.get(
        reverse("admin:withdrawals_withdrawal_change", args=[withdrawal.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    assert "Vérifié par" in detail and "Payé" in detail
    runs = client.get(
        reverse("admin:payouts_payoutrun_changelist"), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "répartitions" in runs.lower()
