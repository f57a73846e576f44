"""What publishers embed: the iframe button, counts, badge and button.js."""

import pytest
from django.urls import reverse

from buttons import services
from tests.buttons.helpers import flattr_post
from tests.factories import FlattrFactory, ThingFactory, UserFactory


@pytest.mark.django_db
class TestEmbedAndCounts:
    def test_embed_is_frameable_cacheable_and_escapes(self, client):
        thing = ThingFactory(title='"><script>alert(1)</script>')
        FlattrFactory(thing=thing)
        response = client.get(f"/embed/{thing.pk}/")
        assert response.status_code == 200
        assert "X-Frame-Options" not in response
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "max-age=30" in response["Cache-Control"]
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert 'id="count">1<' in body

    def test_count_json_is_cors_open_and_follows_writes(
        self, client, supporter, django_capture_on_commit_callbacks
    ):
        thing = ThingFactory()
        first = client.get(f"/things/{thing.pk}/count.json")
        assert first["Access-Control-Allow-Origin"] == "*"
        assert first.json() == {"thing": thing.pk, "count": 0, "month": 0}
        client.force_login(supporter)
        with django_capture_on_commit_callbacks(execute=True):
            flattr_post(client, thing)
        assert client.get(f"/things/{thing.pk}/count.json").json()["count"] == 1

    def test_badge_svg_escapes_the_title(self, client):
        thing = ThingFactory(title="<svg onload=x>")
        response = client.get(f"/things/{thing.pk}/badge.svg")
        assert response["Content-Type"].startswith("image/svg+xml")
        assert "<svg onload" not in response.content.decode()

    def test_button_js_is_long_cached_with_its_version(self, client):
        from buttons.views import button_js_version

        response = client.get(f"/button.js?v={button_js_version()}")
        assert "immutable" in response["Cache-Control"]
        assert b"flattr-button" in response.content
        assert "max-age=300" in client.get("/button.js")["Cache-Control"]

    def test_snippet_page_has_both_styles(self, client):
        creator = UserFactory()
        thing = ThingFactory(owner=creator)
        client.force_login(creator)
        body = client.get(reverse("thing_button", args=[thing.pk])).content.decode()
        assert f'data-flattr-thing="{thing.pk}"' in body
        assert 'data-flattr-style="compact"' in body
        assert "/button.js?v=" in body


@pytest.mark.django_db
def test_editing_a_thing_refreshes_its_cached_embed(client, django_capture_on_commit_callbacks):
    creator = UserFactory()
    thing = ThingFactory(owner=creator, title="Old title")
    assert "Old title" in client.get(f"/embed/{thing.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.thing_update(thing=thing, title="New title")
    assert "New title" in client.get(f"/embed/{thing.pk}/").content.decode()
