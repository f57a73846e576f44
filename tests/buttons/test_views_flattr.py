"""Flattr rate limits: the per-IP limit counts accepted flattrs only; refused
attempts have their own, higher limit; the client address comes from
TRUSTED_PROXY_COUNT."""

import pytest
from django.test import Client
from django.urls import reverse

from buttons.models import Flattr
from tests.factories import ThingFactory, UserFactory


def flattr(user, thing, **extra):
    client = Client()
    client.force_login(user)
    return client.post(
        reverse("flattr_confirm", args=[thing.pk]), HTTP_ACCEPT="application/json", **extra
    )


@pytest.mark.django_db
class TestPerIpLimit:
    def test_refused_attempts_do_not_use_up_the_accepted_limit(self, settings):
        settings.FLATTR_CLICK_RATE_PER_IP = "2/h"
        broke = UserFactory()  # empty wallet: every attempt is refused
        assert [flattr(broke, ThingFactory()).status_code for _ in range(5)] == [402] * 5
        statuses = [
            flattr(UserFactory(wallet_cents=1000), ThingFactory()).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert Flattr.objects.count() == 2

    def test_refused_attempts_have_their_own_higher_limit(self, settings):
        settings.FLATTR_CLICK_RATE_PER_IP = "2/h"
        settings.FLATTR_REFUSED_RATE_PER_IP = "3/h"
        broke = UserFactory()
        statuses = [flattr(broke, ThingFactory()).status_code for _ in range(4)]
        assert statuses == [402, 402, 402, 429]

    def test_behind_one_proxy_each_client_has_its_own_bucket(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        settings.FLATTR_CLICK_RATE_PER_IP = "1/h"
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        first = flattr(
            UserFactory(wallet_cents=1000),
            ThingFactory(),
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **proxy,
        )
        # A forged entry before the one the proxy appended changes nothing.
        second = flattr(
            UserFactory(wallet_cents=1000),
            ThingFactory(),
            HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.9",
            **proxy,
        )
        same = flattr(
            UserFactory(wallet_cents=1000),
            ThingFactory(),
            HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9",
            **proxy,
        )
        assert (first.status_code, second.status_code, same.status_code) == (200, 200, 429)

    def test_without_a_trusted_proxy_forwarded_for_is_ignored(self, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        settings.FLATTR_CLICK_RATE_PER_IP = "1/h"
        a = flattr(
            UserFactory(wallet_cents=1000), ThingFactory(), HTTP_X_FORWARDED_FOR="203.0.113.1"
        )
        b = flattr(
            UserFactory(wallet_cents=1000), ThingFactory(), HTTP_X_FORWARDED_FOR="203.0.113.2"
        )
        assert (a.status_code, b.status_code) == (200, 429)


@pytest.mark.django_db
def test_per_user_limit_counts_accepted_flattrs(settings):
    settings.FLATTR_CLICK_RATE_PER_USER = "2/h"
    supporter = UserFactory(wallet_cents=1000)
    thing = ThingFactory()
    assert flattr(supporter, thing).status_code == 200
    assert flattr(supporter, thing).status_code == 409  # refused: not counted
    assert flattr(supporter, ThingFactory()).status_code == 200
    assert flattr(supporter, ThingFactory()).status_code == 429
