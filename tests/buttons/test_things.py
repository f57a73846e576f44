"""Creators' pages for their things and the public pages that list them."""

import datetime as dt

import pytest
from django.urls import reverse

from buttons.models import Thing
from tests.factories import FlattrFactory, ThingFactory, UserFactory


@pytest.mark.django_db
class TestCreatorPages:
    def test_create_edit_hide_and_delete(self, client):
        creator = UserFactory()
        client.force_login(creator)
        response = client.post(
            reverse("thing_new"),
            {"url": "https://me.example.org/post", "title": "Post", "category": "text"},
        )
        thing = Thing.objects.get()
        assert response["Location"] == reverse("thing_button", args=[thing.pk])
        client.post(
            reverse("thing_edit", args=[thing.pk]),
            {"url": thing.url, "title": "Renamed", "category": "video"},
        )
        thing.refresh_from_db()
        assert (thing.title, thing.category) == ("Renamed", "video")
        client.post(reverse("thing_toggle_hidden", args=[thing.pk]))
        thing.refresh_from_db()
        assert thing.hidden
        client.post(reverse("thing_delete", args=[thing.pk]))
        assert not Thing.objects.exists()

    def test_a_flattred_thing_is_hidden_not_deleted(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        FlattrFactory(thing=thing)
        client.force_login(creator)
        client.post(reverse("thing_delete", args=[thing.pk]))
        thing.refresh_from_db()
        assert thing.removed and thing.hidden

    @pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example.org/a", "not a url"])
    def test_non_http_urls_are_refused(self, client, url):
        client.force_login(UserFactory())
        response = client.post(reverse("thing_new"), {"url": url, "title": "T", "category": "text"})
        assert response.status_code == 400
        assert response.context["form"].errors["url"]
        assert not Thing.objects.exists()

    def test_one_thing_per_owner_and_url(self, client):
        creator = UserFactory()
        ThingFactory(owner=creator, url="https://me.example.org/x")
        client.force_login(creator)
        response = client.post(
            reverse("thing_new"),
            {"url": "https://me.example.org/x", "title": "T", "category": "text"},
        )
        assert response.status_code == 400
        assert Thing.objects.count() == 1

    def test_my_things_shows_counts(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        FlattrFactory(thing=thing)
        FlattrFactory(thing=thing, created_at=dt.datetime(2020, 1, 5, tzinfo=dt.UTC))
        client.force_login(creator)
        page = client.get(reverse("my_things"))
        assert page.context["page"][0].month_count == 1
        assert page.context["page"][0].total_count == 2

    def test_someone_elses_thing_cannot_be_edited(self, client):
        thing = ThingFactory()
        client.force_login(UserFactory())
        assert (
            client.post(reverse("thing_edit", args=[thing.pk]), {"title": "x"}).status_code == 404
        )

    def test_public_pages(self, client):
        creator = UserFactory(username="ana")
        thing = ThingFactory(owner=creator, title="Visible", category="audio")
        ThingFactory(owner=creator, title="Secret", hidden=True)
        FlattrFactory(thing=thing)
        assert "Visible" in client.get("/u/ana/").content.decode()
        assert "Secret" not in client.get("/u/ana/").content.decode()
        explore = client.get("/explore/?category=audio").content.decode()
        assert "Visible" in explore and "Secret" not in explore
        assert "Visible" not in client.get("/explore/?category=video").content.decode()
        assert "Visible" in client.get(thing.get_absolute_url()).content.decode()
