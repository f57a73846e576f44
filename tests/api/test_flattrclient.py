"""The real Flattr client library, flattrclient 0.2 (PyPI; in the dev
extra), against a live server: the code flow, a lookup that finds nothing,
subscribe() with its empty body, and a refused token request (issue 28,
items 17, 18 and 19).

The library has Flattr's addresses built in; a transport adapter on its
``requests`` session sends what it addresses to api.flattr.com and
flattr.com to the live server instead, as a DNS entry would."""

import urllib.parse

import pytest
import requests
from django.test import Client
from requests.adapters import HTTPAdapter

flattrclient_api = pytest.importorskip("flattrclient.api")
import flattrclient.exc  # noqa: E402
import flattrclient.oauth  # noqa: E402

from api import services as api_services  # noqa: E402
from buttons.models import Flattr, Subscription  # noqa: E402
from tests.factories import ThingFactory, UserFactory, fund  # noqa: E402

REDIRECT = "http://localhost:8080/callback"
FLATTR_HOSTS = ("https://api.flattr.com/", "https://flattr.com/")


class ToLiveServer(HTTPAdapter):
    def __init__(self, base: str):
        super().__init__()
        self.base = base.rstrip("/") + "/"

    def send(self, request, *args, **kwargs):
        for host in FLATTR_HOSTS:
            if request.url.startswith(host):
                request.url = self.base + request.url[len(host) :]
        return super().send(request, *args, **kwargs)


def point_at(session: requests.Session, live_server) -> None:
    adapter = ToLiveServer(live_server.url)
    for host in FLATTR_HOSTS:
        session.mount(host, adapter)
    session.mount("http://", adapter)


def consent_code(person, app) -> str:
    browser = Client()
    browser.force_login(person)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "flattr,thing",
    }
    form = browser.get("/oauth/authorize", query).context["form"]
    consent = {name: form[name].value() or "" for name in form.fields}
    consent["allow"] = "Authorize"
    location = browser.post("/oauth/authorize", consent)["Location"]
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]


@pytest.mark.django_db(transaction=True)
def test_flattrclient_end_to_end(live_server):
    writer = UserFactory(username="blogger")
    fund(writer)
    song = ThingFactory(owner=UserFactory(username="musician"), url="https://music.example/song")
    app, secret = api_services.application_register(
        user=writer, name="flattrclient", redirect_uris=REDIRECT, client_type="confidential"
    )

    # Item 19: a refused token request is an exception with the reason,
    # not a KeyError on error_description.
    auth = flattrclient.oauth.get()
    point_at(auth._session, live_server)
    auth.set_auth(app.client_id, secret)
    with pytest.raises(flattrclient.exc.FlattrApiError) as refused:
        auth.token("not-a-code", REDIRECT)
    assert "authorization code" in str(refused.value)

    token = auth.token(consent_code(writer, app), REDIRECT)
    assert token["token_type"] == "bearer"
    api = flattrclient_api.get(token["access_token"])
    point_at(api._session, live_server)

    # Item 17: nothing at this URL is NotFoundError, not a KeyError on error.
    with pytest.raises(flattrclient.exc.NotFoundError) as missing:
        api.things.lookup(url="https://nowhere.example/post")
    assert str(missing.value) == "No thing was found"

    # A URL we know: the lookup's 302 leads to the thing.
    thing = api.things.lookup(url=song.url)
    assert thing.id == song.pk and thing.subscribed is False

    # Item 18: subscribe() sends an empty body; it subscribes for 3 months.
    thing.subscribe()
    subscription = Subscription.objects.get(supporter=writer, thing=song)
    assert (subscription.months, subscription.months_remaining) == (3, 2)
    assert Flattr.objects.filter(supporter=writer, thing=song).count() == 1
    assert [s.thing.id for s in api.authenticated.get_subscriptions()] == [song.pk]

    # A second subscribe() is Flattr's "subscribed" refusal, with its reason.
    again = api.things.lookup(url=song.url)
    again._subscribed = False
    with pytest.raises(flattrclient.exc.FlattrApiError):
        again.subscribe()
    assert Subscription.objects.filter(supporter=writer).count() == 1
