"""Numbers typed with digits that are not ASCII ("²", "١٢"): str.isdigit()
says yes to them and int() refuses "²", so a view that checked with
isdigit() answered 500. Each place answers as for any other wrong number."""

import datetime as dt

import pytest
from django.test import Client

from buttons.models import Subscription
from likes.sources.base import retry_after
from tests.factories import ThingFactory, UserFactory, supporter

pytestmark = pytest.mark.django_db

ODD = ["²", "١٢", "12²"]


@pytest.fixture
def member():
    client = Client(raise_request_exception=False)
    user = supporter(budget=300, balance=5000)
    client.force_login(user)
    return user, client


@pytest.mark.parametrize("value", ODD)
def test_the_classic_button_reads_an_odd_thing_id_as_none(member, value):
    _user, client = member
    response = client.get("/button/view/", {"thing": value, "url": "https://a.example/"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ODD)
def test_a_subscription_of_odd_months_is_refused(member, value):
    user, client = member
    thing = ThingFactory()
    response = client.post(f"/things/{thing.pk}/subscribe/", {"months": value})
    assert 400 <= response.status_code < 500
    assert "1, 3, 6 or 12 months" in response.content.decode()
    assert not Subscription.objects.filter(supporter=user).exists()


@pytest.mark.parametrize("value", ODD)
def test_removing_an_odd_way_to_pay_is_refused(member, settings, value):
    settings.FLATTR_FUNDING = "after"
    _user, client = member
    response = client.post("/settings/payment-method/remove/", {"method": value}, follow=True)
    assert response.status_code == 200
    assert "This way to pay was already removed." in response.content.decode()


@pytest.mark.parametrize("value", ODD)
def test_an_odd_onward_target_is_a_form_error(member, value):
    _user, client = member
    response = client.post("/settings/onward/", {"target_0": value, "percent_0": "10"})
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("value", ODD)
def test_the_admin_search_takes_odd_digits_as_text(value):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/likes/connectedaccount/", {"q": value}).status_code == 200


@pytest.mark.parametrize("value", ODD)
def test_an_odd_retry_after_is_no_date(value):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert retry_after({"Retry-After": value}, now) is None
