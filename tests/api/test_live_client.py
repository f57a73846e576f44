"""An old Flattr client, spoken over real HTTP to a live server: Basic auth
at the token endpoint, form bodies, ``_method=patch``, a lookup that answers
302, then search, flattr and subscribe."""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.test import Client

from api import services as api_services
from buttons.models import Flattr, Subscription, Thing
from tests.factories import ThingFactory, UserFactory, fund

REDIRECT = "http://localhost:8080/callback"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(method, url, *, form=None, headers=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.django_db(transaction=True)
def test_an_old_client_does_everything_over_http(live_server):
    base = live_server.url
    writer = UserFactory(username="blogger")
    fund(writer)
    other = UserFactory(username="musician")
    song = ThingFactory(owner=other, url="https://music.example/song", title="A song")

    # The developer registered the app on the settings page; the person
    # accepts on the consent page (a browser session).
    app, secret = api_services.application_register(
        user=writer, name="Old client", redirect_uris=REDIRECT, client_type="confidential"
    )
    browser = Client()
    browser.force_login(writer)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "flattr,thing",
    }
    page = browser.get("/oauth/authorize", query)
    form = page.context["form"]
    consent = {name: form[name].value() or "" for name in form.fields}
    consent["allow"] = "Authorize"
    code = urllib.parse.parse_qs(
        urllib.parse.urlsplit(browser.post("/oauth/authorize", consent)["Location"]).query
    )["code"][0]

    # Token request: form body, client credentials by HTTP Basic.
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    status, _headers, body = call(
        "POST",
        f"{base}/oauth/token",
        form={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert status == 200, body
    token = json.loads(body)
    assert token["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    api = f"{base}/rest/v2"

    status, headers, body = call("GET", api, headers=auth)
    assert (status, json.loads(body)) == (200, {"message": "hello_world"})
    assert headers["X-RateLimit-Limit"] == "1000"

    # Create a thing with a form body, then rename it with _method=patch.
    status, _h, body = call(
        "POST",
        f"{api}/things",
        form={"url": "https://blog.example/post-1", "title": "Post", "tags": "a,b", "hidden": "0"},
        headers=auth,
    )
    assert status == 201, body
    thing_id = json.loads(body)["id"]
    status, _h, body = call(
        "POST",
        f"{api}/things/{thing_id}",
        form={"_method": "patch", "title": "Post, renamed"},
        headers=auth,
    )
    assert (status, json.loads(body)["message"]) == (200, "ok")
    assert Thing.objects.get(pk=thing_id).title == "Post, renamed"

    # Look it up (302 with Location), and search it.
    lookup = urllib.parse.urlencode({"url": "https://blog.example/post-1"})
    status, headers, body = call("GET", f"{api}/things/lookup/?{lookup}", headers=auth)
    assert status == 302
    assert headers["Location"].endswith(f"/rest/v2/things/{thing_id}")
    status, _h, body = call("GET", f"{api}/things/search?query=renamed&user=blogger")
    assert [t["id"] for t in json.loads(body)["things"]] == [thing_id]

    # Flattr another creator's thing by URL, then subscribe to it.
    status, _h, body = call("POST", f"{api}/flattr", form={"url": song.url}, headers=auth)
    assert status == 200, body
    assert json.loads(body)["thing"]["id"] == song.pk
    status, _h, body = call(
        "POST", f"{api}/things/{song.pk}/subscriptions", form={"month": "3"}, headers=auth
    )
    assert status == 200, body
    assert Flattr.objects.filter(supporter=writer, thing=song).count() == 1
    assert Subscription.objects.get(supporter=writer, thing=song).months == 3

    # Errors are Flattr's JSON, never HTML.
    status, headers, body = call("POST", f"{api}/things/{song.pk}/flattr", headers=auth)
    assert status == 403
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"] == "flattr_once"
    status, _h, body = call(
        "GET", f"{api}/things/{thing_id}", headers={"Authorization": "Bearer x"}
    )
    assert (status, json.loads(body)["error"]) == (401, "unauthorized")
