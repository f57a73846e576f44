"""Every page speaks French to French-speaking visitors."""

import pytest
from django.urls import reverse

from tests.factories import ThingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("wallet", [], "Relevé"),
        ("topup", [], "Rechargez votre porte-monnaie"),
        ("my_things", [], "Enregistrer une création"),
        ("explore", [], "Les plus flattrés ce mois-ci"),
        ("earnings", [], "12 derniers mois"),
        ("settings", [], "Budget mensuel"),
    ],
)
def test_pages_in_french(client, name, args, expected):
    client.force_login(UserFactory())
    response = client.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_flattr_refusal_in_french(client):
    client.force_login(UserFactory())
    response = client.post(
        reverse("flattr_confirm", args=[ThingFactory().pk]),
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.json() == {
        "error": "no_means",
        "message": "Votre porte-monnaie est vide. Rechargez-le d’abord.",
    }
