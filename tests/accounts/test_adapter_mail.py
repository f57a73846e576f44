"""E-mails from allauth speak in the platform's name, not the request's host."""

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_verification_email_greets_from_the_platform_name(client, settings):
    settings.SITE_URL = "https://flattr.example.org"
    client.post(
        reverse("account_signup"),
        {
            "email": "new.person@example.org",
            "username": "newperson",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
        HTTP_HOST="127.0.0.1:8101",
    )
    message = mail.outbox[-1]
    assert message.subject.startswith("[Open Flattr] ")
    assert "Open Flattr" in message.body
    assert "127.0.0.1:8101" not in message.subject
    assert "Hello from 127.0.0.1" not in message.body
