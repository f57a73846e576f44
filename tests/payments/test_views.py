"""The top-up form and its refusals."""

import pytest
from django.urls import reverse

from payments.models import TopUp
from tests.factories import UserFactory


@pytest.mark.django_db
class TestTopUpForm:
    @pytest.mark.parametrize(
        "amount, message",
        [
            ("4.99", "minimum"),
            ("500.01", "maximum"),
            ("lots", "number"),
            ("-8", "positive"),
            ("8.001", "2 decimal"),
        ],
    )
    def test_bad_amounts_are_form_errors_and_save_nothing(self, client, settings, amount, message):
        settings.DEBUG = True
        client.force_login(UserFactory())
        response = client.post(reverse("topup"), {"amount": amount})
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors["amount"])
        assert not TopUp.objects.exists()

    def test_return_url_to_another_site_is_refused(self, client, settings):
        settings.DEBUG = True
        client.force_login(UserFactory())
        response = client.post(
            reverse("topup") + "?next=https://evil.example/steal", {"amount": "8"}
        )
        assert response.status_code == 400
        assert not TopUp.objects.exists()

    def test_without_keys_and_debug_off_top_ups_are_refused(self, client, settings):
        settings.DEBUG = False
        settings.STRIPE_SECRET_KEY = ""
        client.force_login(UserFactory())
        response = client.post(reverse("topup"), {"amount": "8"})
        assert response.status_code == 503
        assert "no payment processor is configured" in response.content.decode()
        assert not TopUp.objects.exists()
