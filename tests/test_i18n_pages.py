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
