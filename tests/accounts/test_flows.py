import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "new.person@example.org",
    "username": "newperson",
    "password1": "a-long-unusual-passphrase",
    "password2": "a-long-unusual-passphrase",
}


def test_signup_sends_verification_and_confirming_logs_in(client):
    response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.monthly_budget_cents == 200
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # Not logged in before verification.
    assert client.get(reverse("dashboard")).status_code == 302
    response = client.post(link.group(1))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_unverified_user_cannot_log_in(client):
    UserFactory(email="late@example.org", verified=False)
    response = client.post(
        reverse("account_login"), {"login": "late@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.parametrize(
    "field, value",
    [("email", "TAKEN@Example.org"), ("username", "TakenName")],
)
def test_signup_refuses_taken_email_or_username_in_any_case(client, field, value):
    UserFactory(email="taken@example.org", username="takenname")
    data = dict(SIGNUP, **{field: value})
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert User.objects.count() == 1


def test_signup_error_is_in_french_for_french_visitors(client):
    UserFactory(username="takenname")
    response = client.post(
        reverse("account_signup"),
        dict(SIGNUP, username="TAKENNAME"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200
    assert "Ce nom d’utilisateur est déjà pris." in response.content.decode() or (
        "déjà" in str(response.context["form"].errors["username"])
    )


def test_signup_refuses_username_unusable_in_urls(client):
    response = client.post(reverse("account_signup"), dict(SIGNUP, username="has space/slash"))
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not User.objects.exists()


def test_login_and_logout(client):
    UserFactory(email="me@example.org")
    response = client.post(
        reverse("account_login"), {"login": "ME@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_failed_logins_are_rate_limited(client):
    UserFactory(email="me@example.org")
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": "me@example.org", "password": "wrong"}
        )
        assert response.status_code == 200
    # Even the right password is refused until the window passes.
    response = client.post(
        reverse("account_login"), {"login": "me@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_login_attempts_per_ip_get_429(client):
    statuses = {
        client.post(
            reverse("account_login"), {"login": f"x{i}@example.org", "password": "x"}
        ).status_code
        for i in range(35)
    }
    assert 429 in statuses


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")


def test_password_reset_sends_mail(client):
    UserFactory(email="forgetful@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "forgetful@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "forgetful@example.org" in mail.outbox[0].to


class TestSettings:
    def test_budget_is_entered_in_euros_and_stored_in_cents(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("settings"),
            {"display_name": "Ana", "bio": "Hi", "website": "", "monthly_budget": "12.34"},
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.monthly_budget_cents == 1234
        assert user.display_name == "Ana"

    def test_french_visitors_type_a_comma(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("settings"),
            {"display_name": "", "bio": "", "website": "", "monthly_budget": "5,50"},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
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
        response = client.post(
            reverse("settings"),
            {"display_name": "Changed", "bio": "", "website": "", "monthly_budget": amount},
        )
        assert response.status_code == 200
        errors = " ".join(response.context["form"].errors["monthly_budget"])
        assert message in errors
        user.refresh_from_db()
        assert user.monthly_budget_cents == 200
        assert user.display_name != "Changed"

    def test_budget_error_in_french(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("settings"),
            {"display_name": "", "bio": "", "website": "", "monthly_budget": "1"},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        assert "Le minimum est 2,00" in " ".join(response.context["form"].errors["monthly_budget"])

    def test_overlong_bio_is_refused(self, client, user):
        client.force_login(user)
        response = client.post(
            reverse("settings"),
            {"display_name": "", "bio": "x" * 1001, "website": "", "monthly_budget": "2"},
        )
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
        response = csrf_client.post(
            reverse("settings"),
            {"display_name": "x", "bio": "", "website": "", "monthly_budget": "9"},
        )
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
