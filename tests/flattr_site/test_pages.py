"""Site-wide pages: home, language switcher, framing headers."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_says_what_the_platform_does(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "monthly budget" in response.content.decode()


def test_home_page_in_french(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "budget mensuel" in response.content.decode()


def test_language_switcher_sets_french(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert "budget mensuel" in client.get("/").content.decode()


def test_pages_refuse_to_be_framed(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
