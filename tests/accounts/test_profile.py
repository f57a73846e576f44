"""The public profile: things with counts, totals, and a flattr for the person."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from buttons.models import Category, Thing
from tests.factories import FlattrFactory, ThingFactory, UserFactory
from tests.payouts.helpers import fund

pytestmark = pytest.mark.django_db


def test_profile_lists_things_with_counts_and_the_total(client):
    creator = UserFactory(username="claire", display_name="Claire", bio="I write.")
    post = ThingFactory(owner=creator, title="A post")
    FlattrFactory(thing=post)
    FlattrFactory(thing=post)
    ThingFactory(owner=creator, title="Secret", hidden=True)
    page = client.get(reverse("profile", args=["claire"])).content.decode()
    assert "A post" in page and "2 flattrs" in page
    assert "Secret" not in page
    assert 'data-testid="total-flattrs">2<' in page


def test_flattring_the_creator_makes_a_people_thing_on_first_flattr(client, settings):
    settings.SITE_URL = "https://flattr.example.org"
    creator = UserFactory(username="claire", display_name="Claire")
    fan = UserFactory()
    fund(fan, 500)
    client.force_login(fan)
    page = client.get(reverse("profile", args=["claire"]))
    assert not Thing.objects.exists()
    url = page.context["flattr_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["category"] == ["people"]
    client.post(url)
    person = Thing.objects.get()
    assert person.owner == creator and person.category == Category.PEOPLE
    assert person.flattrs.get().supporter == fan
