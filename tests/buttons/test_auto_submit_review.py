"""Auto-submit cannot put words in a creator's mouth (issue 22, item 9).

A supporter's auto-submit makes a thing only on the creator's verified site
or on the host of the page the button is on; the thing waits for the
creator ("pending"): flattrable, but listed nowhere until she accepts it
in one click. She is told by e-mail, and can remove it in one click."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from buttons import selectors
from buttons.models import Flattr, Thing, VerifiedSite
from notifications import emails
from notifications.models import Email, Event, NotificationSettings
from notifications.services import event_dispatch
from tests.api.conftest import ApiClient, token_for
from tests.factories import UserFactory

PAGE = "https://claire.example/blog/post"
URL = "https://claire.example/blog/post"


def auto_url(**params) -> str:
    params.setdefault("user_id", "claire")
    params.setdefault("url", URL)
    params.setdefault("title", "Claire endorses EvilCoin")
    return "/submit/auto?" + urlencode(params)


def auto_post(client, referer: str | None = PAGE, **params):
    extra = {"HTTP_ACCEPT": "application/json"}
    if referer is not None:
        extra["HTTP_REFERER"] = referer
    return client.post(auto_url(**params), **extra)


@pytest.fixture
def claire(db):
    return UserFactory(username="claire")


@pytest.fixture
def fan(db):
    return UserFactory(wallet_cents=1000)


def listed_everywhere(thing: Thing) -> dict[str, bool]:
    anon = Client()
    api = ApiClient()
    profile = anon.get(reverse("profile", args=[thing.owner.username])).content.decode()
    explore = anon.get(reverse("explore")).content.decode()
    search = anon.get(reverse("explore"), {"q": "EvilCoin"}).content.decode()
    api_list = api.get(f"/users/{thing.owner.username}/things").json()
    api_search = api.get("/things/search", {"query": "EvilCoin"}).json()["things"]
    funding = anon.get(reverse("funding_json", args=[thing.owner.username])).content.decode()
    return {
        "profile": thing.title in profile,
        "explore": thing.title in explore,
        "search": thing.title in search,
        "api": any(t["id"] == thing.pk for t in api_list),
        "api_search": any(t["id"] == thing.pk for t in api_search),
        "funding": thing.url in funding,
        "selectors": selectors.visible_things().filter(pk=thing.pk).exists(),
    }


@pytest.mark.django_db
class TestHostRule:
    def test_an_off_site_address_is_refused_and_leaves_nothing(self, client, claire, fan):
        client.force_login(fan)
        response = auto_post(client, url="https://evilcoin.example/buy")
        assert response.status_code == 403
        assert response.json()["error"] == "auto_submit_host"
        assert "evilcoin.example" in response.json()["message"]
        assert not Thing.objects.exists() and not Flattr.objects.exists()

    def test_without_a_known_page_an_unverified_host_is_refused(self, client, claire, fan):
        client.force_login(fan)
        response = auto_post(client, referer=None)
        assert response.status_code == 403
        assert response.json()["error"] == "auto_submit_host"
        assert not Thing.objects.exists() and not Flattr.objects.exists()

    def test_the_popup_says_why_before_the_click(self, client, claire, fan):
        client.force_login(fan)
        response = client.get(
            auto_url(url="https://evilcoin.example/buy", popup="1"), HTTP_REFERER=PAGE
        )
        assert response.status_code == 403
        body = response.content.decode()
        assert 'data-code="auto_submit_host"' in body
        assert "evilcoin.example" in body and "flattr-confirm" not in body

    def test_a_www_page_matches_its_bare_host(self, client, claire, fan):
        client.force_login(fan)
        response = auto_post(client, referer="https://www.claire.example/")
        assert response.status_code == 200

    def test_a_verified_site_needs_no_page(self, claire, fan):
        VerifiedSite.objects.create(owner=claire, host="claire.example", verified_at=timezone.now())
        api = ApiClient(token_for(fan))
        auto = "https://flattr.com/submit/auto?" + urlencode({"user_id": "claire", "url": URL})
        response = api.post("/flattr", {"url": auto})
        assert response.status_code == 200, response.content
        assert Thing.objects.get().pending

    def test_the_api_without_a_page_is_refused_for_an_unverified_host(self, claire, fan):
        api = ApiClient(token_for(fan))
        auto = "https://flattr.com/submit/auto?" + urlencode({"user_id": "claire", "url": URL})
        response = api.post("/flattr", {"url": auto})
        assert response.status_code == 403
        assert not Thing.objects.exists() and not Flattr.objects.exists()

    def test_the_button_frame_passes_its_page_to_the_popup(self, client, claire, fan):
        query = urlencode({"owner": "claire", "url": URL, "title": "Post"})
        frame = client.get("/embed/auto/?" + query, HTTP_REFERER="https://claire.example/")
        assert "Referer" in frame["Vary"]
        body = frame.content.decode()
        popup = body.split('data-popup="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert parse_qs(urlsplit(popup).query)["page"] == ["https://claire.example/"]
        # The popup is opened by our frame (its Referer is ours): the page
        # named by the frame decides.
        client.force_login(fan)
        response = client.post(
            popup, HTTP_ACCEPT="application/json", HTTP_REFERER="http://testserver/embed/auto/"
        )
        assert response.status_code == 200, response.content
        assert Thing.objects.get().pending

    def test_a_page_parameter_from_a_foreign_referer_is_ignored(self, client, claire, fan):
        client.force_login(fan)
        response = auto_post(
            client, referer="https://evilcoin.example/", page="https://claire.example/"
        )
        assert response.status_code == 403
        assert not Thing.objects.exists()


@pytest.mark.django_db
class TestPendingUntilAccepted:
    def test_a_supporters_thing_waits_unlisted_and_the_creator_is_told(self, client, claire, fan):
        NotificationSettings.objects.create(user=claire, language="fr")
        client.force_login(fan)
        response = auto_post(client)
        assert response.status_code == 200
        thing = Thing.objects.get()
        assert thing.pending and thing.accepted_at is None and thing.submitted_by == fan
        # The flattr counts: a direct link works.
        assert Flattr.objects.get().thing == thing
        assert not any(listed_everywhere(thing).values())
        page = Client().get(thing.get_absolute_url())
        assert page.status_code == 200
        assert "not confirmed by" in page.content.decode()
        event = Event.objects.get(type="thing.submitted", recipient=claire)
        assert event.data["thing"]["id"] == thing.pk
        (email_id,), _deliveries = event_dispatch(key=event.key)
        email = Email.objects.get(pk=email_id)
        message = emails.email_render(email=email)
        assert "Claire endorses EvilCoin" in message.subject + message.body
        assert "Bonjour" in message.body and "/things/mine/" in message.body

    def test_the_creator_accepts_in_one_click_and_it_is_listed(self, client, claire, fan):
        client.force_login(fan)
        auto_post(client)
        thing = Thing.objects.get()
        owner = Client(enforce_csrf_checks=True)
        owner.force_login(claire)
        mine = owner.get(reverse("my_things")).content.decode()
        assert "Submitted by supporters" in mine
        accept = reverse("thing_accept", args=[thing.pk])
        assert f'action="{accept}"' in mine
        assert owner.post(accept).status_code == 403  # no CSRF token
        token = owner.cookies["csrftoken"].value
        response = owner.post(accept, {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
        thing.refresh_from_db()
        assert not thing.pending and thing.accepted_at is not None
        assert all(listed_everywhere(thing).values())

    def test_nobody_else_can_accept(self, client, claire, fan):
        client.force_login(fan)
        auto_post(client)
        thing = Thing.objects.get()
        assert client.post(reverse("thing_accept", args=[thing.pk])).status_code == 404
        thing.refresh_from_db()
        assert thing.pending

    def test_the_creator_removes_in_one_click_and_its_flattrs_stop_counting(
        self, client, claire, fan
    ):
        client.force_login(fan)
        auto_post(client)
        thing = Thing.objects.get()
        assert selectors.counted_flattrs(supporter=fan).count() == 1
        owner = Client()
        owner.force_login(claire)
        response = owner.post(reverse("thing_dismiss", args=[thing.pk]))
        assert response.status_code == 302
        thing.refresh_from_db()
        assert thing.removed and thing.hidden and thing.pending
        assert selectors.counted_flattrs(supporter=fan).count() == 0
        assert Client().get(thing.get_absolute_url()).status_code == 404
        owner.get(reverse("my_things"))  # shows the "removed" message once
        mine = owner.get(reverse("my_things")).content.decode()
        assert "Claire endorses EvilCoin" not in mine and 'data-testid="submitted"' not in mine

    def test_the_creators_own_auto_submit_is_accepted_directly(self, client, claire):
        client.force_login(claire)
        response = auto_post(client, title="My post")
        assert response.status_code == 200
        thing = Thing.objects.get()
        assert thing.owner == claire and not thing.pending and thing.accepted_at is not None
        assert not Flattr.objects.exists()  # nobody flattrs their own thing
        assert listed_everywhere(thing)["profile"]

    def test_the_creators_own_auto_submit_off_site_is_refused(self, client, claire):
        client.force_login(claire)
        response = auto_post(client, url="https://elsewhere.example/")
        assert response.status_code == 403
        assert response.json()["error"] == "auto_submit_host"
        assert not Thing.objects.exists()

    def test_flattring_a_creators_profile_is_listed_under_her_own_words(self, client, claire, fan):
        profile = settings.SITE_URL + reverse("profile", args=["claire"])
        client.force_login(fan)
        response = client.post(
            auto_url(url=profile, title="Claire endorses EvilCoin", category="people"),
            HTTP_ACCEPT="application/json",
            HTTP_REFERER="http://testserver" + reverse("profile", args=["claire"]),
        )
        assert response.status_code == 200, response.content
        thing = Thing.objects.get()
        assert not thing.pending
        assert thing.title == claire.public_name and thing.category == "people"


@pytest.mark.django_db
def test_the_classic_button_carries_its_page_to_the_popup(client, claire, fan):
    query = urlencode({"uid": "claire", "url": URL, "title": "Post"})
    frame = client.get("/button/view/?" + query, HTTP_REFERER="https://claire.example/")
    assert "Referer" in frame["Vary"]
    popup = frame.content.decode().split('data-popup="', 1)[1].split('"', 1)[0]
    popup = popup.replace("&amp;", "&")
    assert parse_qs(urlsplit(popup).query)["page"] == ["https://claire.example/"]
    client.force_login(fan)
    ours = "http://testserver/button/view/"
    response = client.get(popup, HTTP_REFERER=ours)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["page"] == ["https://claire.example/"]
    flattred = client.post(response["Location"], HTTP_ACCEPT="application/json", HTTP_REFERER=ours)
    assert flattred.status_code == 200, flattred.content
    assert Thing.objects.get().pending
