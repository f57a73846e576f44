"""The settings page and public profiles."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def post_settings(client, fields: dict, **extra):
    """POST the settings form: ``fields`` over blank ones."""
    blank = {"display_name": "", "bio": "", "website": "", "monthly_budget": ""}
    return client.post(reverse("settings"), {**blank, **fields}, **extra)


class TestSettings:
    def test_budget_is_entered_in_euros_and_stored_in_cents(self, client, user):
        client.force_login(user)
        response = post_settings(
            client, {"display_name": "Ana", "bio": "Hi", "monthly_budget": "12.34"}
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.monthly_budget_cents == 1234
        assert user.display_name == "Ana"

    def test_french_visitors_type_a_comma(self, client, user):
        client.force_login(user)
        response = post_settings(client, {"monthly_budget": "5,50"}, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.monthly_budget_cents == 550

    @pytest.mark.parametrize(
        "amount, message",
        [
            ("1.99", "minimum"),
            ("-5", "positive"),
            ("abc", "number"),
            ("3.333", "2 decimal"),
        ],
    )
    def test_bad_budget_is_a_form_error_and_saves_nothing(self, client, user, amount, message):
        client.force_login(user)
        response = post_settings(client, {"display_name": "Changed", "monthly_budget": amount})
        assert response.status_code == 200
        errors = " ".join(response.context["form"].errors["monthly_budget"])
        assert message in errors
        user.refresh_from_db()
        assert user.monthly_budget_cents == 200
        assert user.display_name != "Changed"

    def test_budget_error_in_french(self, client, user):
        client.force_login(user)
        response = post_settings(client, {"monthly_budget": "1"}, HTTP_ACCEPT_LANGUAGE="fr")
        assert "Le minimum est 2,00" in " ".join(response.context["form"].errors["monthly_budget"])

    def test_overlong_bio_is_refused(self, client, user):
        client.force_login(user)
        response = post_settings(client, {"bio": "x" * 1001, "monthly_budget": "2"})
        assert response.status_code == 200
        assert response.context["form"].errors["bio"]
        user.refresh_from_db()
        assert user.bio == ""

    def test_settings_need_login(self, client):
        response = client.get(reverse("settings"))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]

    def test_post_without_csrf_token_is_refused(self, user):
        from django.test import Client

        csrf_client = Client(enforce_csrf_checks=True)
        csrf_client.force_login(user)
        response = post_settings(csrf_client, {"display_name": "x", "monthly_budget": "9"})
        assert response.status_code == 403
        user.refresh_from_db()
        assert user.monthly_budget_cents == 200


class TestProfile:
    def test_public_profile_shows_name_and_escapes_bio(self, client):
        UserFactory(username="Claire", display_name="Claire D", bio="<script>alert(1)</script>")
        response = client.get("/u/Claire/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Claire D" in body
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;" in body

    def test_username_lookup_is_case_insensitive(self, client):
        UserFactory(username="Claire")
        response = client.get("/u/claire/")
        assert response.status_code == 301
        assert response["Location"] == "/u/Claire/"

    def test_unknown_profile_is_a_404_in_the_site_layout(self, client):
        response = client.get("/u/nobody/")
        assert response.status_code == 404
        body = response.content.decode()
        assert "Page not found" in body
        assert 'class="site-header"' in body
