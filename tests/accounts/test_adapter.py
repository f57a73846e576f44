"""Login lockout is per account and address: failures from one address
cannot lock the account's owner out from another."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory


def login(client, password, ip):
    return client.post(
        reverse("account_login"),
        {"login": "victim@example.org", "password": password},
        REMOTE_ADDR=ip,
    )


def fail_logins(client, times, ip):
    for _ in range(times):
        login(client, "wrong", ip)


@pytest.fixture
def victim(db):
    return UserFactory(email="victim@example.org")


def test_failures_from_another_address_do_not_lock_the_owner_out(victim):
    attacker = Client()
    fail_logins(attacker, 8, "203.0.113.66")
    owner = Client()
    response = login(owner, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


def test_failures_lock_the_account_from_that_address(victim):
    attacker = Client()
    fail_logins(attacker, 5, "203.0.113.66")
    response = login(attacker, PASSWORD, "203.0.113.66")
    assert "_auth_user_id" not in attacker.session
    assert "Too many failed login attempts" in response.content.decode()


def test_the_login_limit_reads_the_address_behind_the_trusted_proxy(settings, victim):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(HTTP_X_FORWARDED_FOR="203.0.113.66")
    fail_logins(attacker, 8, "10.0.0.1")
    owner = Client(HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = login(owner, PASSWORD, "10.0.0.1")
    assert response.status_code == 302
