"""My flattrs: this month's and earlier ones, and undo before the run."""

import datetime as dt

import pytest
from django.urls import reverse

from buttons.models import Flattr
from buttons.services import current_period
from payouts.models import PayoutRun
from tests.factories import FlattrFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_my_flattrs_lists_this_month_and_earlier_months(client):
    supporter = UserFactory()
    now = FlattrFactory(supporter=supporter, thing__title="Fresh post")
    FlattrFactory(
        supporter=supporter,
        thing__title="Old post",
        created_at=dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC),
    )
    client.force_login(supporter)
    page = client.get(reverse("my_flattrs")).content.decode()
    assert "Fresh post" in page and "Old post" in page
    assert reverse("flattr_undo", args=[now.pk]) in page
    assert page.count("Undo</button>") == 1


def test_undo_takes_back_this_months_flattr(client):
    flattr = FlattrFactory()
    client.force_login(flattr.supporter)
    response = client.post(reverse("flattr_undo", args=[flattr.pk]))
    assert response.status_code == 302
    assert not Flattr.objects.filter(pk=flattr.pk).exists()


def test_undo_is_refused_once_the_months_run_exists(client):
    flattr = FlattrFactory()
    PayoutRun.objects.create(period=current_period())
    client.force_login(flattr.supporter)
    client.post(reverse("flattr_undo", args=[flattr.pk]))
    assert Flattr.objects.filter(pk=flattr.pk).exists()


def test_undo_of_someone_elses_flattr_changes_nothing(client):
    flattr = FlattrFactory()
    client.force_login(UserFactory())
    client.post(reverse("flattr_undo", args=[flattr.pk]))
    assert Flattr.objects.filter(pk=flattr.pk).exists()


def test_undo_of_an_earlier_months_flattr_is_refused(client):
    flattr = FlattrFactory(created_at=dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC))
    client.force_login(flattr.supporter)
    client.post(reverse("flattr_undo", args=[flattr.pk]))
    assert Flattr.objects.filter(pk=flattr.pk).exists()


def test_my_flattrs_shows_the_subscription_state_of_each_thing(client):
    from buttons.models import Subscription

    flattr = FlattrFactory()
    Subscription.objects.create(
        supporter=flattr.supporter, thing=flattr.thing, months=3, months_remaining=2
    )
    client.force_login(flattr.supporter)
    page = client.get(reverse("my_flattrs")).content.decode()
    assert "Subscription: Active, 2 months left" in page
