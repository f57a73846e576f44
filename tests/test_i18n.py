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


def test_french_catalogues_say_porte_monnaie_and_have_no_fuzzy_entry():
    """Issue 28, item 13: one word for the wallet in French, and no entry
    left fuzzy (msgfmt drops those: the page shows English)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    catalogues = subprocess.run(
        ["git", "ls-files", "*.po"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert catalogues
    for name in catalogues:
        text = (root / name).read_text()
        assert "portefeuille" not in text.lower(), name
        assert "#, fuzzy" not in text, name
