"""Sign-up, log-in, password flows (allauth with our adapter and forms)."""

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
