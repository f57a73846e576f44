"""The classic Flattr doors: load.js, /button/view/, popout, badge, redirects."""

import struct
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from buttons.models import Thing, VerifiedSite
from tests.factories import ThingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_load_js_is_a_cacheable_flattr_loader(client, version):
    response = client.get(f"/js/{version}/load.js?mode=auto&uid=mario")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=86400" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.content.decode()
    for api in ("FlattrLoader", "setup", "render", "addLoadEvent"):
        assert api in body
    again = client.get(f"/js/{version}/load.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_other_loader_versions_are_404(client):
    assert client.get("/js/0.7/load.js").status_code == 404


@pytest.mark.parametrize("path", ["/button/flattr-badge-large.png", "/flattr-badge-large.png"])
def test_the_classic_badge_is_a_93_by_20_png(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", body[16:24]) == (93, 20)


def test_button_view_of_a_registered_creator_shows_the_count_and_popout(client):
    creator = UserFactory(username="mario")
    thing = ThingFactory(owner=creator, url="http://wp.local/?p=444")
    response = client.get(
        "/button/view/",
        {"uid": "mario", "url": "http://wp.local/?p=444", "title": "T", "button": "compact"},
    )
    assert response.status_code == 200
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert 'class="compact"' in html
    assert f'data-thing="{thing.pk}"' in html
    assert "/button/popout/?" in html and "popup=1" in html


def test_button_view_with_an_unknown_uid_is_a_button_waiting_for_its_creator(client):
    response = client.get(
        "/button/view/", {"uid": "nobody-here", "url": "https://old.example/post", "title": "Old"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-url="https://old.example/post"' in html
    popout = parse_qs(
        urlsplit(html.split('data-popup="')[1].split('"')[0].replace("&amp;", "&")).query
    )
    assert "uid" not in popout  # the thing will be created unclaimed


def test_button_view_with_unknown_attributes_still_renders(client):
    response = client.get(
        "/button/view/", {"url": "https://old.example/a", "colour": "pink", "unknown": "size"}
    )
    assert response.status_code == 200
    assert 'id="flattr"' in response.content.decode()


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"uid": "mario"}, "names no URL"),
        ({"url": "javascript:alert(1)"}, "Only http and https"),
        ({"url": "ftp://example.org/x"}, "Only http and https"),
    ],
)
def test_a_button_that_cannot_work_explains_itself(client, params, reason):
    response = client.get("/button/view/", params)
    assert response.status_code == 200  # the frame explains; the console stays clean
    assert reason in response.content.decode() and 'id="flattr"' not in response.content.decode()
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    page = client.get("/button/popout/", params)
    assert page.status_code == 400 and reason in page.content.decode()


def test_popout_sends_a_new_thing_to_the_auto_submit_confirmation(client):
    UserFactory(username="mario")
    response = client.get(
        "/button/popout/",
        {
            "uid": "mario",
            "url": "https://mario.example/p",
            "title": "P",
            "category": "text",
            "popup": "1",
        },
    )
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("auto_submit")
    query = parse_qs(target.query)
    assert query["user_id"] == ["mario"] and query["url"] == ["https://mario.example/p"]
    assert query["popup"] == ["1"]


def test_popout_of_a_known_thing_goes_to_its_confirmation(client):
    thing = ThingFactory()
    response = client.get("/button/popout/", {"url": thing.url, "uid": thing.owner.username})
    assert response["Location"] == reverse("flattr_confirm", args=[thing.pk])


def test_flattring_through_the_popout_creates_an_unclaimed_thing_for_an_unknown_uid(client):
    supporter = UserFactory(wallet_cents=1000)
    client.force_login(supporter)
    response = client.get(
        "/button/popout/", {"uid": "gone", "url": "https://gone.example/1", "title": "Gone"}
    )
    confirm = response["Location"]
    posted = client.post(confirm, HTTP_ACCEPT="application/json")
    assert posted.status_code == 200, posted.content
    thing = Thing.objects.get(url="https://gone.example/1")
    assert thing.owner is None and thing.flattrs.count() == 1


def test_old_thing_and_profile_links_redirect_to_our_pages(client):
    thing = ThingFactory()
    for path in (f"/thing/{thing.pk}", f"/thing/{thing.pk}/", f"/thing/{thing.pk}/some-title"):
        response = client.get(path)
        assert response.status_code == 301
        assert response["Location"] == thing.get_absolute_url()
    response = client.get("/profile/mario")
    assert response.status_code == 301 and response["Location"] == "/u/mario/"


class TestVerifiedSites:
    @pytest.fixture
    def site_owner(self):
        owner = UserFactory(username="owner")
        VerifiedSite.objects.create(owner=owner, host="owned.example", verified_at=timezone.now())
        return owner

    def test_auto_submit_for_another_creator_under_a_verified_site_is_refused(
        self, client, site_owner
    ):
        UserFactory(username="intruder")
        response = client.get(
            reverse("auto_submit"),
            {"user_id": "intruder", "url": "https://owned.example/post"},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 400
        assert "verified by another creator" in response.content.decode()
        assert not Thing.objects.filter(url="https://owned.example/post").exists()

    def test_an_anonymous_button_under_a_verified_site_belongs_to_its_owner(
        self, client, site_owner
    ):
        supporter = UserFactory(wallet_cents=1000)
        client.force_login(supporter)
        response = client.post(
            reverse("auto_submit") + "?url=https://owned.example/post&title=Post",
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200, response.content
        assert Thing.objects.get(url="https://owned.example/post").owner == site_owner

    def test_button_view_under_a_verified_site_names_its_owner(self, client, site_owner):
        html = client.get(
            "/button/view/", {"uid": "someone-else", "url": "https://owned.example/p"}
        ).content.decode()
        assert "uid=owner" in html


def test_auto_submit_for_a_creator_who_has_not_joined_makes_an_unclaimed_thing(client):
    """Old static badges carry flattr.com user names: the flattr is kept and
    its share waits for the creator to claim the site (issue 12)."""
    supporter = UserFactory(wallet_cents=1000)
    client.force_login(supporter)
    response = client.post(
        "/submit/auto?url=https://a.example.org/&user_id=nobody-here&title=A",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    thing = Thing.objects.get(url="https://a.example.org/")
    assert thing.owner is None and thing.flattrs.count() == 1
