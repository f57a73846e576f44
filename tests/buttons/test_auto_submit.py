"""Auto-submit: a first flattr on an unknown URL creates the thing."""

import pytest

from buttons.models import Flattr, Thing
from tests.factories import FlattrFactory, ThingFactory, UserFactory


@pytest.mark.django_db
class TestAutoSubmit:
    def test_first_flattr_creates_the_thing(self, client, supporter):
        creator = UserFactory(username="claire")
        client.force_login(supporter)
        url = (
            "/submit/auto?user_id=claire&url=https://claire.example.org/a&title=Hello&category=text"
        )
        page = client.get(url)
        assert page.status_code == 200
        assert "Goes to" in page.content.decode()
        assert not Thing.objects.exists()
        response = client.post(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        thing = Thing.objects.get()
        assert (thing.owner, thing.url, thing.title, thing.category) == (
            creator,
            "https://claire.example.org/a",
            "Hello",
            "text",
        )
        # The same button later finds the same thing.
        assert client.post(url, HTTP_ACCEPT="application/json").json()["error"] == "flattr_once"
        assert Thing.objects.count() == 1

    def test_without_owner_the_thing_is_unclaimed(self, client, supporter):
        client.force_login(supporter)
        client.post(
            "/submit/auto?url=https://podcast.example.org/ep1&title=Ep1",
            HTTP_ACCEPT="application/json",
        )
        thing = Thing.objects.get()
        assert thing.owner is None
        assert Flattr.objects.get().thing == thing

    @pytest.mark.parametrize(
        "query, message",
        [
            ("title=x", "url"),
            ("url=javascript:alert(1)&title=x", "url"),
            ("url=ftp://files.example.org/x&title=x", "url"),
            ("url=https://a.example.org&user_id=nobody", "nobody"),
            ("url=https://a.example.org&category=weird", "category"),
            ("url=https://a.example.org&title=" + "x" * 10_000, "title"),
        ],
    )
    def test_malformed_parameters_are_400_and_record_nothing(
        self, client, supporter, query, message
    ):
        client.force_login(supporter)
        response = client.get("/submit/auto?" + query)
        assert response.status_code == 400
        assert message in response.content.decode()
        response = client.post("/submit/auto?" + query, HTTP_ACCEPT="application/json")
        assert response.status_code == 400
        assert not Thing.objects.exists() and not Flattr.objects.exists()

    def test_embed_auto_shows_existing_count(self, client):
        creator = UserFactory(username="dave")
        thing = ThingFactory(owner=creator, url="https://d.example.org/x")
        FlattrFactory(thing=thing)
        response = client.get("/embed/auto/?owner=dave&url=https://d.example.org/x&title=X")
        assert response.status_code == 200
        assert 'id="count">1<' in response.content.decode()
        assert response["Content-Security-Policy"] == "frame-ancestors *"
