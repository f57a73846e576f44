"""The thing page: its button records a flattr without JavaScript, says when
you flattred, what the month's split will do, and who flattred publicly."""

import pytest
from django.urls import reverse

from buttons.models import Flattr
from tests.factories import FlattrFactory, ThingFactory, UserFactory
from tests.payouts.helpers import fund

pytestmark = pytest.mark.django_db


def test_thing_page_button_posts_to_the_confirmation_and_records_a_flattr(client):
    supporter = UserFactory()
    fund(supporter, 1000)
    thing = ThingFactory()
    client.force_login(supporter)
    page = client.get(thing.get_absolute_url()).content.decode()
    action = reverse("flattr_confirm", args=[thing.pk])
    assert f'action="{action}"' in page
    response = client.post(action)
    assert response.status_code == 302
    assert response["Location"] == thing.get_absolute_url()
    assert Flattr.objects.filter(supporter=supporter, thing=thing).count() == 1


def test_thing_page_says_when_you_flattred_it_and_offers_no_second_button(client):
    supporter = UserFactory()
    fund(supporter, 1000)
    thing = ThingFactory()
    FlattrFactory(supporter=supporter, thing=thing)
    client.force_login(supporter)
    page = client.get(thing.get_absolute_url()).content.decode()
    assert "You flattred this on" in page
    assert "flattr-confirm" not in page


def test_outlook_shares_what_the_wallet_holds_when_it_holds_less_than_the_budget(client):
    supporter = UserFactory(monthly_budget_cents=1000)
    fund(supporter, 763)
    for _ in range(4):
        FlattrFactory(supporter=supporter)
    thing = ThingFactory()
    client.force_login(supporter)
    page = client.get(reverse("flattr_confirm", args=[thing.pk])).content.decode()
    # Four flattrs plus the one being confirmed: 763 // 5 = 152 cents each.
    assert "7.63\xa0€ of your 10.00\xa0€ budget will be shared among your 5 flattrs" in page
    assert "about 1.52\xa0€ each" in page
    assert reverse("topup") in page


def test_public_supporters_are_named_and_anonymous_ones_are_not(client):
    thing = ThingFactory()
    shown = UserFactory(display_name="Ada Public", flattrs_public=True)
    hidden = UserFactory(display_name="Bob Private")
    FlattrFactory(supporter=shown, thing=thing)
    FlattrFactory(supporter=hidden, thing=thing)
    page = client.get(thing.get_absolute_url()).content.decode()
    assert "Ada Public" in page
    assert "Bob Private" not in page
